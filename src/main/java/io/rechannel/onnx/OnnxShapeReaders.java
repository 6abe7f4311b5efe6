package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Shapes;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.ChannelDependency;
import io.rechannel.graph.Consumer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks the nodes that read the dimensions of a tensor carrying the input's channels ({@code Shape}, {@code Size}).
 * Exporters emit them to rebuild batch and spatial sizes (torchvision's ViT: {@code Shape → Gather(0)} for the
 * reshape after its patch embedding); the adapted model computes the same there as long as nothing uses the entry
 * that holds the channel count. The shape vector is followed through {@code Gather}, {@code Slice},
 * {@code Squeeze}, {@code Unsqueeze}, {@code Concat}, {@code Cast} and {@code Identity} with constant indices, keeping
 * track of which entries hold the channel count; any other use of such an entry, an index computed at run time, or a
 * used {@code Size} (the product of every dimension) is refused, naming the node.
 */
final class OnnxShapeReaders {

    private static final Set<String> FORWARDING = Set.of("Identity", "Cast", "Squeeze", "Unsqueeze");

    private final OnnxModel model;
    private final String source;
    private final String input;

    /**
     * A shape vector (or one of its entries, as a scalar or a one-entry vector) in flight: its length (-1 when
     * unknown) and the positions that hold the channel count, from the reader {@code origin} through the nodes
     * {@code path}.
     */
    private record Vector(int length, Set<Integer> channelEntries, String origin, String path) {

        Vector(int length, Set<Integer> channelEntries, String origin) {
            this(length, channelEntries, origin, "");
        }

        /** This vector's channel entries moved by {@code node}, which made a vector of {@code newLength}. */
        Vector passed(String node, int newLength, Set<Integer> entries) {
            return new Vector(newLength, entries, origin, path.isEmpty() ? node : path + ", " + node);
        }
    }

    private OnnxShapeReaders(OnnxModel model, String source, String input) {
        this.model = model;
        this.source = source;
        this.input = input;
    }

    /** Refuses the model when a node uses the channel count that a dimension reader gives it. */
    static void check(OnnxModel model, ChannelDependency dependency, String source) {
        OnnxShapeReaders readers = new OnnxShapeReaders(model, source, dependency.input());
        for (Consumer reader : dependency.dimensions()) {
            readers.check(reader);
        }
    }

    private void check(Consumer reader) {
        String id = reader.node().id();
        OnnxMl.NodeProto node = model.node(id);
        String origin = "'" + id + "' (" + node.getOpType() + ")";
        if (node.getOpType().equals("Size")) {
            // the element count multiplies every dimension, the channel count included
            follow(node.getOutput(0), new Vector(1, Set.of(0), origin));
            return;
        }
        int rank = reader.node().inputShape(0).map(s -> s.length).orElse(-1);
        ChannelAxis axis = reader.segment().flattened() ? ChannelAxis.LAST : reader.segment().axis();
        if (axis == ChannelAxis.LAST && rank < 0) {
            throw refuse(origin + " reads the shape of a tensor of unrecorded rank whose channels come last; rechannel"
                    + " cannot tell which entry holds the channel count");
        }
        int channel = axis.index(rank);
        int start = (int) OnnxModel.attribute(node, "start", 0);
        int end = (int) OnnxModel.attribute(node, "end", rank < 0 ? Integer.MAX_VALUE : rank);
        if ((start < 0 || end < 0) && rank < 0) {
            throw refuse(origin + " counts dimensions from the end of a tensor of unrecorded rank");
        }
        start = clamp(start < 0 ? start + rank : start, rank);
        end = clamp(end < 0 ? end + rank : end, rank);
        Set<Integer> entries = channel >= start && channel < end ? Set.of(channel - start) : Set.of();
        follow(node.getOutput(0), new Vector(rank < 0 ? -1 : Math.max(0, end - start), entries, origin));
    }

    private static int clamp(int index, int rank) {
        return rank < 0 ? Math.max(0, index) : Math.max(0, Math.min(index, rank));
    }

    /** Follows a shape vector to every node reading it, while it holds the channel count. */
    private void follow(String tensor, Vector vector) {
        if (vector.channelEntries().isEmpty()) {
            return;
        }
        for (OnnxMl.ValueInfoProto output : model.file().outputs()) {
            if (output.getName().equals(tensor)) {
                throw refuse(vector.origin() + " gives the input's channel count to the model output '" + tensor + "'");
            }
        }
        for (OnnxMl.NodeProto user : model.file().nodes()) {
            for (int position = 0; position < user.getInputCount(); position++) {
                if (user.getInput(position).equals(tensor)) {
                    follow(user, position, vector);
                }
            }
        }
    }

    private void follow(OnnxMl.NodeProto user, int position, Vector vector) {
        String op = user.getOpType();
        String name = "'" + model.idOf(user) + "' (" + op + ")";
        if (position == 0 && FORWARDING.contains(op)) {
            follow(user.getOutput(0), vector.passed(name, vector.length(), vector.channelEntries()));
        } else if (position == 0 && op.equals("Gather") && OnnxModel.attribute(user, "axis", 0) == 0) {
            long[] indices = constantIntegers(user, 1, name);
            List<Integer> picked = new ArrayList<>();
            for (long index : indices) {
                picked.add(normalise(index, vector, name));
            }
            follow(user.getOutput(0), select(picked, vector, name));
        } else if (position == 0 && op.equals("Slice")) {
            follow(user.getOutput(0), sliced(user, vector, name));
        } else if (op.equals("Concat") && OnnxModel.attribute(user, "axis", 0) == 0) {
            int base = 0;
            for (int k = 0; k < position; k++) {
                int length = vectorLength(user.getInput(k));
                if (length < 0) {
                    throw refuse(name + " joins the shape from " + vector.origin() + " after a vector of unknown length;"
                            + " rechannel cannot tell where its channel count goes");
                }
                base += length;
            }
            Set<Integer> shifted = new HashSet<>();
            for (int entry : vector.channelEntries()) {
                shifted.add(base + entry);
            }
            follow(user.getOutput(0), vector.passed(name, -1, shifted));
        } else {
            throw refuse(name + " uses the channel count of input '" + input + "' that " + vector.origin() + " reads"
                    + (vector.path().isEmpty() ? "" : " (passed on by " + vector.path() + ")")
                    + ": the adapted model would compute with its new channel count there");
        }
    }

    private int normalise(long index, Vector vector, String name) {
        if (index < 0 && vector.length() < 0) {
            throw refuse(name + " picks entry " + index + " from the end of the shape from " + vector.origin()
                    + ", whose length is not recorded; rechannel cannot tell whether it is the channel count");
        }
        return (int) (index < 0 ? index + vector.length() : index);
    }

    /** What a Slice of a 1-D vector keeps: entry e moves to (e - start) / step where the slice takes it. */
    private Vector sliced(OnnxMl.NodeProto slice, Vector vector, String name) {
        long start;
        long end;
        long step = 1;
        if (slice.getInputCount() >= 3) {
            start = single(constantIntegers(slice, 1, name), name);
            end = single(constantIntegers(slice, 2, name), name);
            if (slice.getInputCount() >= 4 && !slice.getInput(3).isEmpty()) {
                long axis = single(constantIntegers(slice, 3, name), name);
                if (axis != 0 && axis != -1) {
                    throw refuse(name + " slices the shape from " + vector.origin() + " along axis " + axis);
                }
            }
            if (slice.getInputCount() >= 5 && !slice.getInput(4).isEmpty()) {
                step = single(constantIntegers(slice, 4, name), name);
            }
        } else {
            start = single(attributeInts(slice, "starts"), name);
            end = single(attributeInts(slice, "ends"), name);
        }
        long n = vector.length();
        if (step == 0 || n < 0 && (start < 0 || end < 0 || step < 0)) {
            throw refuse(name + " slices the shape from " + vector.origin() + (step == 0 ? " with step 0"
                    : " from its end, whose length is not recorded; rechannel cannot tell whether it keeps the channel count"));
        }
        // ONNX clamps start and end into the vector (to [-1, n-1] when stepping back)
        long last = n < 0 ? Long.MAX_VALUE : n;
        start = start < 0 ? start + last : start;
        end = end < 0 ? end + last : end;
        start = step > 0 ? Math.max(0, Math.min(start, last)) : Math.max(0, Math.min(start, last - 1));
        end = step > 0 ? Math.max(0, Math.min(end, last)) : Math.max(-1, Math.min(end, last - 1));
        Set<Integer> entries = new HashSet<>();
        for (int entry : vector.channelEntries()) {
            long from = entry - start;
            boolean inside = step > 0 ? entry >= start && entry < end : entry <= start && entry > end;
            if (inside && from % step == 0) {
                entries.add((int) (from / step));
            }
        }
        int length = n < 0 ? -1 : (int) Math.max(0, step > 0 ? (end - start + step - 1) / step : (start - end - step - 1) / -step);
        return vector.passed(name, length, entries);
    }

    private Vector select(List<Integer> picked, Vector vector, String name) {
        Set<Integer> entries = new HashSet<>();
        for (int k = 0; k < picked.size(); k++) {
            if (vector.channelEntries().contains(picked.get(k))) {
                entries.add(k);
            }
        }
        return vector.passed(name, picked.size(), entries);
    }

    private long single(long[] values, String name) {
        if (values.length != 1) {
            throw refuse(name + " slices the shape vector with " + values.length + " starts, ends or steps");
        }
        return values[0];
    }

    /** The length of a 1-D tensor joined with a shape vector: a constant's, or a recorded one; -1 when unknown. */
    private int vectorLength(String tensor) {
        String constant = model.constantSource(tensor);
        if (constant != null) {
            return (int) Shapes.count(model.constantShape(constant));
        }
        long[] values = constantNodeIntegers(tensor);
        if (values != null) {
            return values.length;
        }
        for (OnnxMl.ValueInfoProto info : model.file().valueInfos()) {
            long[] shape = info.getName().equals(tensor) ? OnnxModel.shape(info) : null;
            if (shape != null && shape.length <= 1) {
                return shape.length == 0 ? 1 : (int) shape[0];
            }
        }
        OnnxMl.NodeProto producer = model.file().nodes().stream().filter(n -> n.getOutputList().contains(tensor))
                .findFirst().orElse(null);
        if (producer != null && producer.getOpType().equals("Unsqueeze") && vectorLength(producer.getInput(0)) == 1) {
            return 1; // a scalar made a one-entry vector, as exporters build shapes
        }
        return -1;
    }

    /** The integer values of a node's input, which must be a constant; otherwise the node is refused. */
    private long[] constantIntegers(OnnxMl.NodeProto node, int position, String name) {
        long[] values = position < node.getInputCount() ? integers(node.getInput(position)) : null;
        if (values == null) {
            throw refuse(name + " picks entries of the shape from a tensor computed at run time; rechannel cannot"
                    + " tell whether it reads the channel count of input '" + input + "'");
        }
        return values;
    }

    private long[] integers(String tensor) {
        String source = model.constantSource(tensor);
        if (source == null) {
            return constantNodeIntegers(tensor);
        }
        OnnxMl.TensorProto t = model.constant(source);
        if (t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
            return null;
        }
        int count = (int) Shapes.count(t.getDimsList().stream().mapToLong(Long::longValue).toArray());
        long[] values = new long[count];
        ByteBuffer raw = t.hasRawData() ? t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN) : null;
        for (int i = 0; i < count; i++) {
            switch (t.getDataType()) {
                case OnnxMl.TensorProto.DataType.INT64_VALUE -> values[i] = raw != null ? raw.getLong() : t.getInt64Data(i);
                case OnnxMl.TensorProto.DataType.INT32_VALUE -> values[i] = raw != null ? raw.getInt() : t.getInt32Data(i);
                default -> {
                    return null;
                }
            }
        }
        return values;
    }

    /** A Constant node's {@code value_int} / {@code value_ints}, which {@link OnnxModel} does not keep as constants. */
    private long[] constantNodeIntegers(String tensor) {
        for (OnnxMl.NodeProto node : model.file().nodes()) {
            if (node.getOpType().equals("Constant") && node.getOutputList().contains(tensor)) {
                for (OnnxMl.AttributeProto a : node.getAttributeList()) {
                    if (a.getName().equals("value_int")) {
                        return new long[] {a.getI()};
                    }
                    if (a.getName().equals("value_ints")) {
                        return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
                    }
                }
            }
        }
        return null;
    }

    private static long[] attributeInts(OnnxMl.NodeProto node, String name) {
        return node.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst()
                .map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray()).orElse(new long[0]);
    }

    private RechannelException refuse(String reason) {
        return new RechannelException(RechannelException.Kind.AMBIGUOUS_CHANNELS, source + ": " + reason);
    }
}

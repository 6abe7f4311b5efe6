package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.ChannelStats;
import io.rechannel.core.ElementType;
import io.rechannel.core.Mixing;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Remix;
import io.rechannel.core.TensorLayout;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Segment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Computes the {@link OnnxEdits} that apply a channel map to a planned ONNX model. A constant that
 * other nodes also read (the TorchScript exporter shares identical tensors, often through Identity
 * nodes) is not changed for them: the adapted node gets its own copy under a new name.
 */
final class OnnxAdapter {

    private final OnnxPlan plan;
    private final ChannelMap map;
    private final AdaptOptions options;
    private final OnnxEdits edits = new OnnxEdits();
    private final List<String> changes = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    OnnxAdapter(OnnxPlan plan, ChannelMap map, AdaptOptions options) {
        this.plan = plan;
        this.map = map;
        this.options = options;
        names.addAll(plan.model().file().initializers().keySet());
    }

    OnnxEdits edits() {
        OnnxModel model = plan.model();
        for (OnnxPlan.Use use : plan.weights()) {
            // weights are re-mixed block by block while the output is written
            ChannelMap sliced = use.consumer().segment().map(map);
            Remix remix = new Remix(model.file().path() + ": initializer '" + use.source() + "'",
                    TensorLayout.of(model.constantShape(use.source()), use.view(), use.dim()),
                    Mixing.kernel(sliced, map.seed() ^ use.source().hashCode()));
            TensorData.Source source = TensorData.source(model, use.source());
            put(use, remix.newShape(), header -> ChangedTensor.remixed(header, remix, source.reader(),
                    source.type(), model.file().path()), sliced.kernelChange());
        }
        // the user's statistics go to the first normalisation: a Sub (mean) with the first Div or Mul
        // (spread), or a BatchNormalization, whichever comes first
        String first = plan.constants().stream().map(u -> u.node().getOpType())
                .filter(op -> op.equals("Sub") || op.equals("BatchNormalization")).findFirst().orElse("");
        boolean meanSet = false;
        boolean spreadSet = false;
        for (OnnxPlan.Use use : plan.constants()) {
            ChannelMap sliced = use.consumer().segment().map(map);
            if (!options.stats().isEmpty() && sliced != map) {
                throw RechannelException.usage(plan.model().file().path() + ": --stats given but node '"
                        + use.consumer().node().id() + "' normalises the input's channels more than once (behind a"
                        + " concatenation); rechannel sets --stats only where they are read once");
            }
            String where = model.file().path() + ": initializer '" + use.source() + "'";
            ElementType type = TensorData.type(model, use.source());
            double[] old = model.constantValues(use.source());
            ChannelMixer.checkSource(old, type, where);
            double[] values = ChannelMixer.remapConstants(old, use.view(), sliced);
            String op = use.node().getOpType();
            if (!options.stats().isEmpty()) {
                if (first.equals("Sub") && op.equals("Sub") && !meanSet) {
                    applyStats(values, use.view(), ChannelStats::mean);
                    meanSet = true;
                } else if (first.equals("Sub") && (op.equals("Div") || op.equals("Mul")) && !spreadSet) {
                    applyStats(values, use.view(), st -> op.equals("Div") ? st.std() : 1 / st.std());
                    spreadSet = true;
                } else if (first.equals("BatchNormalization") && op.equals("BatchNormalization") && !spreadSet) {
                    if (use.input() == 3) {
                        applyStats(values, use.view(), ChannelStats::mean);
                    } else if (use.input() == 4) {
                        applyStats(values, use.view(), st -> st.std() * st.std());
                        spreadSet = true;
                    }
                }
            }
            ChannelMixer.checkResult(values, type, where);
            long[] dims = newDims(use, sliced);
            put(use, dims, header -> ChangedTensor.of(header, dims, values, model.file().path()), "per-channel constants");
        }
        resizeShapes();
        return edits;
    }

    List<String> changes() {
        return changes;
    }

    private void applyStats(double[] values, AxisView view, java.util.function.ToDoubleFunction<ChannelStats> pick) {
        AxisView out = view.withCount(map.newCount());
        for (Map.Entry<String, ChannelStats> entry : options.stats().entrySet()) {
            out.fillChannel(values, map.to().indexOf(entry.getKey()), pick.applyAsDouble(entry.getValue()));
        }
    }

    private long[] newDims(OnnxPlan.Use use, ChannelMap sliced) {
        long[] dims = plan.model().constantShape(use.source()).clone();
        dims[use.dim()] = dims[use.dim()] / use.view().axisLength() * use.view().withCount(sliced.newCount()).axisLength();
        return dims;
    }

    /**
     * Registers a changed constant under its own name, or, when other nodes read it too, as a copy
     * for this node; {@code tensor} makes the output's tensor from its header (name, type, dims).
     */
    private void put(OnnxPlan.Use use, long[] dims, java.util.function.Function<OnnxMl.TensorProto, ChangedTensor> tensor,
                     String what) {
        OnnxModel model = plan.model();
        OnnxMl.TensorProto base = TensorData.header(model, use.source());
        boolean own = use.node().getInput(use.input()).equals(use.source())
                && model.file().initializers().containsKey(use.source()) && model.usesOf(use.source()) == 1;
        if (own) {
            edits.initializers.put(use.source(), tensor.apply(OnnxTensors.header(base, use.source(), dims)));
            changes.add(use.source() + " " + Arrays.toString(model.constantShape(use.source())) + " -> "
                    + Arrays.toString(dims) + " (" + what + ")");
            return;
        }
        String name = use.source() + "_rechannel";
        for (int k = 2; !names.add(name); k++) {
            name = use.source() + "_rechannel" + k;
        }
        edits.added.add(tensor.apply(OnnxTensors.header(base, name, dims)));
        int index = indexOf(use.node());
        edits.nodes.computeIfAbsent(index, i -> use.node().toBuilder()).setInput(use.input(), name);
        changes.add(name + " " + Arrays.toString(dims) + " (" + what + "; a copy of shared " + use.source() + " for node '"
                + use.consumer().node().id() + "')");
    }

    private int indexOf(OnnxMl.NodeProto node) {
        List<OnnxMl.NodeProto> nodes = plan.model().file().nodes();
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i) == node) {
                return i;
            }
        }
        throw new IllegalStateException("node not in the graph");
    }

    /** The input's declared shape and every recorded intermediate shape that carries the channels. */
    private void resizeShapes() {
        OnnxFile file = plan.model().file();
        for (Map.Entry<String, Segment> entry : plan.dependency().tensors().entrySet()) {
            List<String> tensors = new ArrayList<>();
            OnnxMl.NodeProto node = plan.model().node(entry.getKey());
            if (node == null) {
                tensors.add(entry.getKey());
            } else {
                tensors.addAll(node.getOutputList());
            }
            for (String tensor : tensors) {
                for (OnnxMl.ValueInfoProto info : concat(file.inputs(), file.valueInfos())) {
                    if (info.getName().equals(tensor)) {
                        OnnxMl.ValueInfoProto resized = resize(info, entry.getValue());
                        if (resized != null) {
                            edits.valueInfos.put(tensor, resized);
                        }
                    }
                }
            }
        }
        changes.add("shapes: " + edits.valueInfos.size() + " recorded tensor shapes updated");
    }

    private static List<OnnxMl.ValueInfoProto> concat(List<OnnxMl.ValueInfoProto> a, List<OnnxMl.ValueInfoProto> b) {
        List<OnnxMl.ValueInfoProto> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private OnnxMl.ValueInfoProto resize(OnnxMl.ValueInfoProto info, Segment segment) {
        if (!info.getType().hasTensorType() || !info.getType().getTensorType().hasShape()) {
            return null;
        }
        OnnxMl.TensorShapeProto shape = info.getType().getTensorType().getShape();
        int rank = shape.getDimCount();
        if (rank == 0) {
            return null;
        }
        int index = segment.flattened() ? rank - 1 : (segment.axis() == null ? ChannelAxis.FIRST : segment.axis()).index(rank);
        OnnxMl.TensorShapeProto.Dimension dim = shape.getDim(index);
        if (!dim.hasDimValue()) {
            return null;
        }
        long old = dim.getDimValue();
        int total = segment.total() > 0 ? segment.total() : plan.channels();
        long updated = segment.flattened() ? old / total * segment.resized(total, plan.channels(), map.newCount())
                : segment.resized(old, plan.channels(), map.newCount());
        OnnxMl.ValueInfoProto.Builder b = info.toBuilder();
        b.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(index).setDimValue(updated);
        return b.build();
    }
}

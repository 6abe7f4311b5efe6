package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.Mixing;
import io.rechannel.core.PerChannelConstants;
import io.rechannel.core.Remix;
import io.rechannel.core.TensorLayout;
import io.rechannel.format.TensorChange;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Segment;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

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
    private final List<TensorChange> tensorChanges = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private int resizedShapes;

    /**
     * @param outsideKnown the preprocessing outside the model is known: the user's statistics may go to the input
     *                     contract where no normalisation in front of the adapted layers takes them
     */
    OnnxAdapter(OnnxPlan plan, ChannelMap map, AdaptOptions options, boolean outsideKnown) {
        this.plan = plan;
        this.map = map;
        this.options = options;
        names.addAll(plan.model().file().initializers().keySet());
        PerChannelConstants.checkStatsTargets(options.stats(), plan.constants().stream().filter(u -> u.statistic() != null)
                        .map(u -> new PerChannelConstants.Target("node '" + u.consumer().node().id() + "'", u.statistic(),
                                u.consumer().segment().slices())).toList(),
                plan.model().file().path().toString(), plan.dependency().input(), "Sub, Div, Mul or BatchNormalization node",
                outsideKnown);
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
                    source.type(), model.file().path()), TensorChange.Kind.MIXED, sliced.kernelChange());
        }
        for (OnnxPlan.Use use : plan.constants()) {
            ChannelMap sliced = use.consumer().segment().map(map);
            double[] values = PerChannelConstants.adapt(model.constantValues(use.source()), use.view(), sliced,
                    use.statistic(), options.stats(), TensorData.type(model, use.source()),
                    model.file().path() + ": initializer '" + use.source() + "'");
            long[] dims = use.view().resizedShape(model.constantShape(use.source()), use.dim(), sliced.newCount());
            put(use, dims, header -> ChangedTensor.of(header, dims, values, model.file().path()), TensorChange.Kind.CONSTANTS, null);
        }
        resizeShapes();
        return edits;
    }

    /** Every initializer changed or added, with its shapes. */
    List<TensorChange> tensorChanges() {
        return List.copyOf(tensorChanges);
    }

    /** How many recorded tensor shapes were updated. */
    String shapeChanges() {
        return "shapes: " + resizedShapes + " recorded tensor shapes updated";
    }

    /**
     * Registers a changed constant under its own name, or, when other nodes read it too, as a copy
     * for this node; {@code tensor} makes the output's tensor from its header (name, type, dims); {@code label} says
     * in the report what happened to it (null: its kind's word).
     */
    private void put(OnnxPlan.Use use, long[] dims, Function<OnnxMl.TensorProto, ChangedTensor> tensor,
                     TensorChange.Kind kind, String label) {
        OnnxModel model = plan.model();
        OnnxMl.TensorProto base = TensorData.header(model, use.source());
        long[] oldDims = model.constantShape(use.source());
        boolean own = use.node().getInput(use.input()).equals(use.source())
                && model.file().initializers().containsKey(use.source()) && model.usesOf(use.source()) == 1;
        if (own) {
            edits.initializers.put(use.source(), tensor.apply(OnnxTensors.header(base, use.source(), dims)));
            tensorChanges.add(TensorChange.of(use.source(), oldDims, dims, kind).labelled(label));
            return;
        }
        String name = use.source() + "_rechannel";
        for (int k = 2; !names.add(name); k++) {
            name = use.source() + "_rechannel" + k;
        }
        edits.added.add(tensor.apply(OnnxTensors.header(base, name, dims)));
        int index = indexOf(use.node());
        edits.nodes.computeIfAbsent(index, i -> use.node().toBuilder()).setInput(use.input(), name);
        tensorChanges.add(TensorChange.of(name, oldDims, dims, kind, "a copy of shared " + use.source() + " for node '"
                + use.consumer().node().id() + "'").labelled(label));
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
        resizedShapes = edits.valueInfos.size();
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
        int index = segment.shapeIndex(rank, ChannelAxis.FIRST);
        OnnxMl.TensorShapeProto.Dimension dim = shape.getDim(index);
        if (!dim.hasDimValue()) {
            return null;
        }
        long updated = segment.resizedEntry(dim.getDimValue(), plan.channels(), map.newCount());
        OnnxMl.ValueInfoProto.Builder b = info.toBuilder();
        b.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(index).setDimValue(updated);
        return b.build();
    }
}

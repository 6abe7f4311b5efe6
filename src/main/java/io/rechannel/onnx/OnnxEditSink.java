package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.Remix;
import io.rechannel.format.TensorChange;
import io.rechannel.pipeline.EditSink;
import io.rechannel.pipeline.PlannedTensor;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Collects an adaptation's results as {@link OnnxEdits}. A constant that other nodes also read (the TorchScript
 * exporter shares identical tensors, often through Identity nodes) is not changed for them: the adapted node gets
 * its own copy under a new name. Kernels are re-mixed block by block while the output is written.
 */
final class OnnxEditSink implements EditSink {

    private final OnnxModel model;
    private final Path file;
    private final OnnxEdits edits = new OnnxEdits();
    private final Set<String> names = new HashSet<>();

    OnnxEditSink(OnnxModel model) {
        this.model = model;
        this.file = model.file().path();
        names.addAll(model.file().initializers().keySet());
    }

    /** The edits so far. */
    OnnxEdits edits() {
        return edits;
    }

    @Override
    public TensorChange remix(PlannedTensor tensor, Remix remix, TensorChange change) {
        TensorData.Source source = TensorData.source(model, tensor.name());
        return put(tensor, remix.newShape(),
                header -> ChangedTensor.remixed(header, remix, source.reader(), source.type(), file), change);
    }

    @Override
    public TensorChange replace(PlannedTensor tensor, long[] newShape, double[] values, TensorChange change) {
        return put(tensor, newShape, header -> ChangedTensor.of(header, newShape, values, file), change);
    }

    /**
     * Stores a changed constant under its own name, or, when other nodes read it too, as a copy for this node;
     * {@code tensor} makes the output's tensor from its header (name, type, dims).
     */
    private TensorChange put(PlannedTensor planned, long[] dims, Function<OnnxMl.TensorProto, ChangedTensor> tensor,
                             TensorChange change) {
        String source = planned.name();
        OnnxMl.NodeProto node = model.node(planned.node());
        int input = OnnxAdaptable.input(planned);
        OnnxMl.TensorProto base = TensorData.header(model, source);
        boolean own = node.getInput(input).equals(source) && model.file().initializers().containsKey(source)
                && model.usesOf(source) == 1;
        if (own) {
            edits.initializers.put(source, tensor.apply(OnnxTensors.header(base, source, dims)));
            return change;
        }
        String name = source + "_rechannel";
        for (int k = 2; !names.add(name); k++) {
            name = source + "_rechannel" + k;
        }
        edits.added.add(tensor.apply(OnnxTensors.header(base, name, dims)));
        edits.nodes.computeIfAbsent(indexOf(node), i -> node.toBuilder()).setInput(input, name);
        return new TensorChange(name, change.oldShape(), change.newShape(), change.kind(), change.label(),
                "a copy of shared " + source + " for node '" + planned.node() + "'");
    }

    private int indexOf(OnnxMl.NodeProto node) {
        List<OnnxMl.NodeProto> nodes = model.file().nodes();
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i) == node) {
                return i;
            }
        }
        throw new IllegalStateException("node not in the graph");
    }
}

package io.rechannel.keras;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.rechannel.core.Remix;
import io.rechannel.format.TensorChange;
import io.rechannel.pipeline.EditSink;
import io.rechannel.pipeline.PlannedList;
import io.rechannel.pipeline.PlannedTensor;

/**
 * Writes an adaptation into a Keras model: variables through {@code target} (the model's own store, or one that
 * defers the writes to a copy), per-channel lists into the model config held in memory.
 */
final class KerasEdits implements EditSink {

    private final KerasAdaptableModel model;
    private final KerasWeightStore target;

    KerasEdits(KerasAdaptableModel model, KerasWeightStore target) {
        this.model = model;
        this.target = target;
    }

    @Override
    public TensorChange remix(PlannedTensor tensor, Remix remix, TensorChange change) {
        target.replace(model.weight(tensor.tensor()), remix);
        return change;
    }

    @Override
    public TensorChange replace(PlannedTensor tensor, long[] newShape, double[] values, TensorChange change) {
        target.replace(model.weight(tensor.tensor()), newShape, values);
        return change;
    }

    @Override
    public String replace(PlannedList list, double[] values) {
        KerasLayer layer = model.view().graph().layer(list.node());
        String key = list.list().key();
        ArrayNode array = (ArrayNode) layer.config().get(key);
        int old = array.size();
        array.removeAll();
        for (double v : values) {
            array.add(v);
        }
        return "config " + layer.path() + "." + key + ": " + old + " -> " + values.length + " values";
    }
}

package io.rechannel.torch;

import io.rechannel.core.Remix;
import io.rechannel.format.TensorChange;
import io.rechannel.format.TensorEdit;
import io.rechannel.pipeline.AdaptableModel;
import io.rechannel.pipeline.EditSink;
import io.rechannel.pipeline.PlannedTensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The edits of a state dict, collected for its writer: a re-mixed tensor is computed block by block when the
 * writer reaches it, from the input still open.
 */
final class EditList implements EditSink {

    private final AdaptableModel model;
    private final List<TensorEdit> edits = new ArrayList<>();

    EditList(AdaptableModel model) {
        this.model = model;
    }

    List<TensorEdit> edits() {
        return List.copyOf(edits);
    }

    @Override
    public TensorChange remix(PlannedTensor tensor, Remix remix, TensorChange change) {
        edits.add(new TensorEdit(tensor.tensor(), remix.newShape(),
                out -> remix.run(model.reader(tensor.tensor()), out, model.elementType(tensor.tensor()))));
        return change;
    }

    @Override
    public TensorChange replace(PlannedTensor tensor, long[] newShape, double[] values, TensorChange change) {
        edits.add(TensorEdit.whole(tensor.tensor(), newShape, () -> values));
        return change;
    }
}

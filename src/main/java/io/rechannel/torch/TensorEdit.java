package io.rechannel.torch;

import io.rechannel.core.Shapes;

import java.util.Arrays;

/** A tensor to store with a new shape and new contents (little-endian elements of its own type). */
record TensorEdit(StoredTensor tensor, long[] shape, byte[] data) {

    TensorEdit {
        shape = shape.clone();
        long expected = Math.multiplyExact(Shapes.count(shape), tensor.dtype().size());
        if (data.length != expected) {
            throw new IllegalArgumentException(tensor.name() + ": " + data.length + " bytes for shape "
                    + Arrays.toString(shape));
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }
}

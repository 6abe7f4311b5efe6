package io.rechannel.format;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * A tensor to store with new contents: {@code values} (row-major, as doubles) are computed only when the
 * writer reaches the tensor, so that a store written with every tensor replaced holds one at a time.
 *
 * @param tensor the tensor of the store being written
 * @param shape  its new shape; stores that edit files in place take only the tensor's own shape
 */
public record TensorEdit(NamedTensor tensor, long[] shape, Supplier<double[]> values) {

    public TensorEdit {
        shape = shape.clone();
    }

    /** New values of the tensor's own shape. */
    public static TensorEdit sameShape(NamedTensor tensor, Supplier<double[]> values) {
        return new TensorEdit(tensor, tensor.shape(), values);
    }

    /** True when the shape stays the tensor's own. */
    public boolean keepsShape() {
        return Arrays.equals(shape, tensor.shape());
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }
}

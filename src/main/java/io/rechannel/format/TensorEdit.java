package io.rechannel.format;

import io.rechannel.core.Blocks;
import io.rechannel.core.Hyperslab;
import io.rechannel.core.Shapes;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * A tensor to store with new contents. The values are produced only when the writer reaches the tensor, as
 * blocks of its new shape ({@link Hyperslab}s, every element once), so that a store written with every tensor
 * replaced holds one tensor — or one block of a large one — at a time.
 *
 * @param tensor the tensor of the store being written
 * @param shape  its new shape; stores that edit files in place take only the tensor's own shape
 * @param values writes the new values, block by block, through the writer it is given
 */
public record TensorEdit(NamedTensor tensor, long[] shape, Values values) {

    /** Produces a tensor's values through a writer of its blocks. */
    @FunctionalInterface
    public interface Values {
        void writeTo(Blocks.Writer out);
    }

    public TensorEdit {
        shape = shape.clone();
    }

    /** New values computed whole, when the writer reaches the tensor. */
    public static TensorEdit whole(NamedTensor tensor, long[] shape, Supplier<double[]> values) {
        long[] dims = shape.clone();
        return new TensorEdit(tensor, dims, out -> out.write(Hyperslab.whole(dims), values.get()));
    }

    /** True when the shape stays the tensor's own. */
    public boolean keepsShape() {
        return Arrays.equals(shape, tensor.shape());
    }

    /** All the values at once, in row-major order (for writers that need the whole tensor). */
    public double[] collect() {
        double[] all = new double[Math.toIntExact(Shapes.count(shape))];
        values.writeTo(Blocks.writer(all, shape));
        return all;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }
}

package io.rechannel.torch;

import io.rechannel.core.Shapes;

import java.util.Arrays;
import java.util.List;

/**
 * One tensor of a state dict, as a store lists it: its name, element type and shape. Optimizer state
 * (a slot such as Adam's {@code exp_avg}) names the parameter it belongs to by the optimizer's index.
 *
 * @param name           the name shown to the user and matched by {@code --tensor}
 * @param dtype          the element type
 * @param shape          the dimensions (empty for a scalar)
 * @param optimizerParam for an optimizer slot, the parameter's index in the optimizer state; otherwise null
 */
record StoredTensor(String name, Dtype dtype, long[] shape, String optimizerParam) {

    StoredTensor {
        shape = shape.clone();
    }

    static StoredTensor of(String name, Dtype dtype, long[] shape) {
        return new StoredTensor(name, dtype, shape, null);
    }

    long elements() {
        return Shapes.count(shape);
    }

    long bytes() {
        return Math.multiplyExact(elements(), dtype.size());
    }

    boolean isOptimizerSlot() {
        return optimizerParam != null;
    }

    List<Long> shapeList() {
        return Arrays.stream(shape).boxed().toList();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoredTensor t && t.name.equals(name) && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape);
    }
}

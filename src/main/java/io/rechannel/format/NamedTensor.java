package io.rechannel.format;

import io.rechannel.core.ElementType;
import io.rechannel.core.Shapes;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * One tensor of a model file as a {@link TensorStore} lists it.
 *
 * @param name        its name in the file, as the user sees it ({@code block1_conv1/kernel}, {@code conv1.weight})
 * @param dtype       its element type, by the safetensors names: {@code F32}, {@code F16}, {@code BF16},
 *                    {@code F64}, {@code I64}, {@code I32}, {@code U8}, {@code BOOL}, ...
 * @param shape       its dimensions (empty for a scalar)
 * @param role        what it is in its layer and how its axes are laid out
 * @param optimizerOf for optimizer state (Adam's moments, RMSprop's velocity), the parameter it belongs
 *                    to as the file keys it; null for a model tensor
 */
public record NamedTensor(String name, String dtype, long[] shape, TensorRole role, String optimizerOf) {

    private static final Set<String> FLOATING = Set.of("F64", "F32", "F16", "BF16");

    public NamedTensor {
        shape = shape.clone();
    }

    /** A model tensor. */
    public static NamedTensor of(String name, String dtype, long[] shape, TensorRole role) {
        return new NamedTensor(name, dtype, shape, role, null);
    }

    /** The same tensor in another role. */
    public NamedTensor withRole(TensorRole newRole) {
        return new NamedTensor(name, dtype, shape, newRole, optimizerOf);
    }

    /** True for the types whose values are read and written as numbers (F64, F32, F16, BF16). */
    public boolean isFloating() {
        return FLOATING.contains(dtype);
    }

    /** The range its values must fit (bfloat16 has float32's); for numeric types only. */
    public ElementType elementType() {
        return switch (dtype) {
            case "F16" -> ElementType.FLOAT16;
            case "F64" -> ElementType.FLOAT64;
            case "F32", "BF16" -> ElementType.FLOAT32;
            default -> ElementType.integer(Integer.parseInt(dtype.substring(1)), dtype.startsWith("I"));
        };
    }

    public boolean isOptimizerSlot() {
        return optimizerOf != null;
    }

    public long elements() {
        return Shapes.count(shape);
    }

    public List<Long> shapeList() {
        return Arrays.stream(shape).boxed().toList();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NamedTensor t && t.name.equals(name) && t.dtype.equals(dtype) && Arrays.equals(t.shape, shape);
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

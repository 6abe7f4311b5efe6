package io.rechannel.transfer;

import io.rechannel.core.Shapes;
import io.rechannel.format.TensorRole;

import java.util.Arrays;
import java.util.Optional;

/**
 * Moves a tensor from one framework's layout into another's: convolution kernels (…spatial, in, out) ↔
 * (out, in, …spatial), dense kernels (in, out) ↔ (out, in), depthwise kernels (…spatial, in, multiplier) ↔
 * (in · multiplier, 1, …spatial). Values are permuted exactly, never computed.
 */
final class Layouts {

    private Layouts() {
    }

    /** How a pretrained tensor is laid out in the target's layout: its shape there, or why it cannot be. */
    record Conversion(long[] shape, int[] permutation, boolean depthwiseToHwim, String refusal) {

        static Conversion refused(String why) {
            return new Conversion(null, null, false, why);
        }

        boolean possible() {
            return refusal == null;
        }

        /** True when values move (a transposition), false when they are copied as they are. */
        boolean moves() {
            if (permutation == null) {
                return false;
            }
            for (int i = 0; i < permutation.length; i++) {
                if (permutation[i] != i) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * The layout change from {@code from} (shape {@code shape}) to the role {@code to} of a target tensor of
     * shape {@code targetShape} (whose depthwise multiplier decides how an (in · multiplier, 1, …) weight splits).
     */
    static Conversion plan(TensorRole from, long[] shape, TensorRole to, long[] targetShape) {
        int rank = shape.length;
        if (from.kind() != to.kind()) {
            return Conversion.refused("a " + describe(from) + " and a " + describe(to) + " are different kinds of tensor");
        }
        if (rank != targetShape.length) {
            return Conversion.refused("ranks differ (" + rank + " and " + targetShape.length + ")");
        }
        if ((from.flattened() || to.flattened()) && from.channelsLast() != to.channelsLast()) {
            return Conversion.refused("it reads a flattened feature map, whose rows Keras orders (…position, channel)"
                    + " and PyTorch and ONNX (channel, …position)");
        }
        if (from.kind() == TensorRole.Kind.MATRIX) {
            return from.channelsLast() == to.channelsLast() ? identity(shape) : permuted(shape, new int[] {1, 0});
        }
        if (from.kind() != TensorRole.Kind.KERNEL) {
            return identity(shape);
        }
        boolean fromDepthwise = isDepthwise(from, shape);
        boolean toDepthwise = isDepthwise(to, targetShape);
        if (from == TensorRole.DEPTHWISE_HWIM || to == TensorRole.DEPTHWISE_HWIM) {
            if (!fromDepthwise || !toDepthwise) {
                return Conversion.refused("a " + describe(from) + " and a " + describe(to) + " are different kinds of layer");
            }
            return depthwise(from, shape, to, targetShape);
        }
        if (from == TensorRole.DEPTHWISE_OIHW && !toDepthwise || to == TensorRole.DEPTHWISE_OIHW && !fromDepthwise) {
            return Conversion.refused("a " + describe(from) + " and a " + describe(to) + " are different kinds of layer");
        }
        boolean fromLast = from.channelsLast();
        boolean toLast = to.channelsLast();
        if (fromLast == toLast) {
            return identity(shape);
        }
        return permuted(shape, fromLast ? hwioToOihw(rank) : oihwToHwio(rank));
    }

    /** A depthwise weight in (in · multiplier, 1, …) form: what an ONNX depthwise Conv, or a state dict's, holds. */
    private static boolean isDepthwise(TensorRole role, long[] shape) {
        return role == TensorRole.DEPTHWISE_HWIM || role == TensorRole.DEPTHWISE_OIHW
                || role == TensorRole.CONV_OIHW && shape.length >= 3 && shape[1] == 1;
    }

    private static Conversion depthwise(TensorRole from, long[] shape, TensorRole to, long[] targetShape) {
        int rank = shape.length;
        if (from == to) {
            return identity(shape);
        }
        if (from == TensorRole.DEPTHWISE_HWIM) {
            // (…k, in, m) → (in, m, …k) → (in · m, 1, …k)
            long[] moved = permute(shape, hwimToInMK(rank));
            long[] result = new long[rank];
            result[0] = Math.multiplyExact(moved[0], moved[1]);
            result[1] = 1;
            System.arraycopy(moved, 2, result, 2, rank - 2);
            return new Conversion(result, hwimToInMK(rank), false, null);
        }
        // (in · m, 1, …k) → (in, m, …k) → (…k, in, m), with the target's multiplier m
        long multiplier = targetShape[rank - 1];
        if (shape[0] % multiplier != 0) {
            return Conversion.refused("its " + shape[0] + " filters do not split into the target's depth multiplier "
                    + multiplier);
        }
        long[] result = new long[rank];
        System.arraycopy(shape, 2, result, 0, rank - 2);
        result[rank - 2] = shape[0] / multiplier;
        result[rank - 1] = multiplier;
        return new Conversion(result, inMKToHwim(rank), true, null);
    }

    /** The values of a tensor of shape {@code shape}, laid out as {@code conversion} says. */
    static double[] apply(double[] values, long[] shape, Conversion conversion) {
        if (!conversion.possible()) {
            throw new IllegalStateException(conversion.refusal());
        }
        if (conversion.permutation() == null) {
            return values;
        }
        long[] source = shape;
        if (conversion.depthwiseToHwim()) {
            // read (in · m, 1, …k) as (in, m, …k)
            int rank = shape.length;
            source = new long[rank];
            long multiplier = conversion.shape()[rank - 1];
            source[0] = shape[0] / multiplier;
            source[1] = multiplier;
            System.arraycopy(shape, 2, source, 2, rank - 2);
        }
        return permute(values, source, conversion.permutation());
    }

    /** (…k, in, out) → (out, in, …k). */
    static int[] hwioToOihw(int rank) {
        return lastTwoFirst(rank, true);
    }

    /** (out, in, …k) → (…k, in, out). */
    static int[] oihwToHwio(int rank) {
        return firstTwoLast(rank, true);
    }

    /** (…k, in, m) → (in, m, …k). */
    private static int[] hwimToInMK(int rank) {
        return lastTwoFirst(rank, false);
    }

    /** (in, m, …k) → (…k, in, m). */
    private static int[] inMKToHwim(int rank) {
        return firstTwoLast(rank, false);
    }

    /** The last two axes moved to the front (swapped or in order), the others after them. */
    private static int[] lastTwoFirst(int rank, boolean swapped) {
        int[] perm = new int[rank];
        perm[0] = swapped ? rank - 1 : rank - 2;
        perm[1] = swapped ? rank - 2 : rank - 1;
        for (int d = 2; d < rank; d++) {
            perm[d] = d - 2;
        }
        return perm;
    }

    /** The first two axes moved to the end (swapped or in order), the others before them. */
    private static int[] firstTwoLast(int rank, boolean swapped) {
        int[] perm = new int[rank];
        for (int d = 0; d < rank - 2; d++) {
            perm[d] = d + 2;
        }
        perm[rank - 2] = swapped ? 1 : 0;
        perm[rank - 1] = swapped ? 0 : 1;
        return perm;
    }

    private static Conversion identity(long[] shape) {
        return new Conversion(shape.clone(), null, false, null);
    }

    private static Conversion permuted(long[] shape, int[] perm) {
        return new Conversion(permute(shape, perm), perm, false, null);
    }

    /** A shape with its axes in the order {@code perm}: axis i of the result is axis perm[i] of {@code shape}. */
    static long[] permute(long[] shape, int[] perm) {
        long[] result = new long[perm.length];
        for (int i = 0; i < perm.length; i++) {
            result[i] = shape[perm[i]];
        }
        return result;
    }

    /** Transposes row-major values of {@code shape}: axis i of the result is axis perm[i] of the input. */
    static double[] permute(double[] values, long[] shape, int[] perm) {
        int rank = shape.length;
        if (values.length != Shapes.count(shape)) {
            throw new IllegalArgumentException(values.length + " values for shape " + Arrays.toString(shape));
        }
        long[] strides = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--) {
            strides[d] = stride;
            stride *= shape[d];
        }
        long[] outShape = permute(shape, perm);
        long[] outStrides = permute(strides, perm);
        double[] result = new double[values.length];
        long[] index = new long[rank];
        long at = 0;
        for (int i = 0; i < result.length; i++) {
            result[i] = values[(int) at];
            for (int d = rank - 1; d >= 0; d--) {
                index[d]++;
                at += outStrides[d];
                if (index[d] < outShape[d]) {
                    break;
                }
                at -= outStrides[d] * index[d];
                index[d] = 0;
            }
        }
        return result;
    }

    static String describe(TensorRole role) {
        return switch (role) {
            case CONV_HWIO -> "convolution kernel (…, in, out)";
            case CONV_OIHW -> "convolution weight (out, in, …)";
            case CONV_TRANSPOSE_HWOI -> "transposed convolution kernel (…, out, in)";
            case CONV_TRANSPOSE_IOHW -> "transposed convolution weight (in, out, …)";
            case DEPTHWISE_HWIM -> "depthwise kernel (…, in, multiplier)";
            case DEPTHWISE_OIHW -> "depthwise weight (in·multiplier, 1, …)";
            case DENSE_IN_OUT -> "dense kernel (in, out)";
            case DENSE_IN_OUT_FLATTENED -> "dense kernel (in, out) behind a flatten";
            case LINEAR_OUT_IN -> "linear weight (out, in)";
            case LINEAR_OUT_IN_FLATTENED -> "linear weight (out, in) behind a flatten";
            case BIAS -> "bias";
            case BN_GAMMA -> "batch-norm scale";
            case BN_BETA -> "batch-norm offset";
            case BN_MEAN -> "batch-norm mean";
            case BN_VARIANCE -> "batch-norm variance";
            case OTHER -> "tensor";
        };
    }

    static Optional<String> layoutChange(TensorRole from, TensorRole to, Conversion conversion) {
        if (!conversion.moves() && !conversion.depthwiseToHwim()) {
            return Optional.empty();
        }
        return Optional.of("laid out as the target's " + describe(to) + " from " + describe(from));
    }
}

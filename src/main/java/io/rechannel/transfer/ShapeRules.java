package io.rechannel.transfer;

import io.rechannel.core.Shapes;

/**
 * The two explicit rules for a pretrained tensor whose shape is not the target's: {@code overlap} copies
 * the block both shapes share, index for index, and keeps the target's values elsewhere; {@code numpy}
 * reproduces {@code numpy.resize}: the values are flattened and refill the new shape cyclically, so that
 * every value whose trailing dimensions changed lands somewhere else.
 */
final class ShapeRules {

    private ShapeRules() {
    }

    /** {@code numpy.resize(a, shape)} of a flattened (row-major) array: element i is a[i mod a.size], zeros when a is empty. */
    static double[] numpyResize(double[] flat, long[] shape) {
        double[] result = new double[Math.toIntExact(Shapes.count(shape))];
        if (flat.length == 0) {
            return result;
        }
        for (int i = 0; i < result.length; i++) {
            result[i] = flat[i % flat.length];
        }
        return result;
    }

    /**
     * How many values {@code numpy.resize} leaves at their own index (the same position along every axis):
     * all of them when only the first axis changes, a fraction otherwise.
     */
    static long keptInPlace(long[] from, long[] to) {
        if (from.length != to.length) {
            return 0;
        }
        long n = Math.min(Shapes.count(from), Shapes.count(to));
        int rank = from.length;
        long[] a = new long[rank];
        long[] b = new long[rank];
        long kept = 0;
        for (long i = 0; i < n; i++) {
            if (java.util.Arrays.equals(a, b)) {
                kept++;
            }
            step(a, from);
            step(b, to);
        }
        return kept;
    }

    private static void step(long[] index, long[] shape) {
        for (int d = shape.length - 1; d >= 0; d--) {
            if (++index[d] < shape[d]) {
                return;
            }
            index[d] = 0;
        }
    }

    /** True when {@code numpy.resize} moves values to other indices: the shapes differ after their first axis. */
    static boolean scrambles(long[] from, long[] to) {
        if (from.length != to.length) {
            return true;
        }
        for (int d = 1; d < from.length; d++) {
            if (from[d] != to[d]) {
                return true;
            }
        }
        return false;
    }

    /** The target's values with the block shared with {@code source} replaced by the source's values, index for index. */
    static double[] overlap(double[] source, long[] sourceShape, double[] target, long[] targetShape) {
        int rank = targetShape.length;
        double[] result = target.clone();
        if (rank == 0) {
            result[0] = source[0];
            return result;
        }
        long[] box = new long[rank];
        for (int d = 0; d < rank; d++) {
            box[d] = Math.min(sourceShape[d], targetShape[d]);
            if (box[d] == 0) {
                return result;
            }
        }
        long[] index = new long[rank];
        int run = Math.toIntExact(box[rank - 1]);
        while (true) {
            System.arraycopy(source, ravel(index, sourceShape), result, ravel(index, targetShape), run);
            int d = rank - 2;
            while (d >= 0 && ++index[d] == box[d]) {
                index[d] = 0;
                d--;
            }
            if (d < 0) {
                return result;
            }
        }
    }

    /** The number of values the shared block holds. */
    static long overlapSize(long[] a, long[] b) {
        long n = 1;
        for (int d = 0; d < a.length; d++) {
            n *= Math.min(a[d], b[d]);
        }
        return n;
    }

    private static int ravel(long[] index, long[] shape) {
        long at = 0;
        for (int d = 0; d < shape.length; d++) {
            at = at * shape[d] + index[d];
        }
        return Math.toIntExact(at);
    }
}

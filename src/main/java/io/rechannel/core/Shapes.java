package io.rechannel.core;

/** Arithmetic on tensor shapes, with {@code long} dimensions and overflow checks. */
public final class Shapes {

    private Shapes() {
    }

    /** The number of elements of a tensor of this shape (1 for a scalar). */
    public static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}

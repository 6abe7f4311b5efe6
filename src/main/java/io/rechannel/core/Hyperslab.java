package io.rechannel.core;

import java.util.Arrays;

/**
 * A selection of a tensor's elements as HDF5 describes one ({@code H5Sselect_hyperslab}): along each
 * dimension, {@code count} blocks of {@code block} consecutive indices, {@code stride} apart, from
 * {@code start}. Its elements are always taken in row-major order of their coordinates.
 */
public record Hyperslab(long[] start, long[] stride, long[] count, long[] block) {

    /** Receives one run of consecutive row-major indices. */
    @FunctionalInterface
    public interface RunConsumer {
        void accept(long flatStart, long length);
    }

    public Hyperslab {
        int rank = start.length;
        if (stride.length != rank || count.length != rank || block.length != rank) {
            throw new IllegalArgumentException("hyperslab arrays of different ranks");
        }
        start = start.clone();
        stride = stride.clone();
        count = count.clone();
        block = block.clone();
    }

    /** Everything of a tensor of this shape. */
    public static Hyperslab whole(long[] shape) {
        long[] ones = new long[shape.length];
        Arrays.fill(ones, 1);
        return new Hyperslab(new long[shape.length], ones, ones, shape);
    }

    public int rank() {
        return start.length;
    }

    /** How many elements it selects. */
    public long size() {
        long n = 1;
        for (int d = 0; d < rank(); d++) {
            n = Math.multiplyExact(n, Math.multiplyExact(count[d], block[d]));
        }
        return n;
    }

    /**
     * Calls {@code consumer} for every run of consecutive indices it selects in a row-major tensor of
     * {@code shape}, in order; adjacent runs are joined.
     */
    public void forEachRun(long[] tensorShape, RunConsumer consumer) {
        int rank = rank();
        // a scalar is a tensor of shape [1]
        long[] shape = tensorShape.length == 0 && rank == 1 ? new long[] {1} : tensorShape;
        if (shape.length != rank) {
            throw new IllegalArgumentException("hyperslab of rank " + rank + " on a shape of rank " + shape.length);
        }
        if (rank == 0) {
            consumer.accept(0, 1);
            return;
        }
        if (size() == 0) {
            return;
        }
        long[] strides = new long[rank];
        long s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            strides[d] = s;
            s = Math.multiplyExact(s, shape[d]);
        }
        long[] position = new long[rank];
        long pendingStart = -1;
        long pendingLength = 0;
        int last = rank - 1;
        while (true) {
            long base = 0;
            for (int d = 0; d < last; d++) {
                base += coordinate(d, position[d]) * strides[d];
            }
            for (long c = 0; c < count[last]; c++) {
                long runStart = base + start[last] + c * stride[last];
                if (pendingStart >= 0 && pendingStart + pendingLength == runStart) {
                    pendingLength += block[last];
                } else {
                    if (pendingStart >= 0) {
                        consumer.accept(pendingStart, pendingLength);
                    }
                    pendingStart = runStart;
                    pendingLength = block[last];
                }
            }
            int d = last - 1;
            while (d >= 0 && ++position[d] == count[d] * block[d]) {
                position[d] = 0;
                d--;
            }
            if (d < 0) {
                break;
            }
        }
        if (pendingStart >= 0) {
            consumer.accept(pendingStart, pendingLength);
        }
    }

    /** The coordinate of the i-th selected index along dimension d. */
    private long coordinate(int d, long i) {
        return start[d] + (i / block[d]) * stride[d] + i % block[d];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Hyperslab h && Arrays.equals(start, h.start) && Arrays.equals(stride, h.stride)
                && Arrays.equals(count, h.count) && Arrays.equals(block, h.block);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(start) * 31 + Arrays.hashCode(block);
    }

    @Override
    public String toString() {
        return "start " + Arrays.toString(start) + " stride " + Arrays.toString(stride) + " count "
                + Arrays.toString(count) + " block " + Arrays.toString(block);
    }
}

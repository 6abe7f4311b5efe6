package io.rechannel.core;

/**
 * How tensors move in and out of the channel arithmetic: a block at a time, as a {@link Hyperslab}
 * of the tensor's real shape, so that memory never depends on the tensor's size.
 */
public final class Blocks {

    /** Elements per block: 2 MiB of doubles, whatever the tensor's size. */
    public static final long DEFAULT_BUDGET = 1 << 18;

    private Blocks() {
    }

    /** Reads the selected elements, in row-major order, converted to double. */
    @FunctionalInterface
    public interface Reader {
        void read(Hyperslab slab, double[] into);
    }

    /** Writes values, in row-major order of the selection. */
    @FunctionalInterface
    public interface Writer {
        void write(Hyperslab slab, double[] values);
    }

    /** Elements per block; the system property {@code rechannel.blockElements} sets it (tests use tiny blocks). */
    public static long budget() {
        return Math.max(1, Long.getLong("rechannel.blockElements", DEFAULT_BUDGET));
    }

    /** Reads from a tensor held in memory in row-major order. */
    public static Reader reader(double[] values, long[] shape) {
        return (slab, into) -> {
            int[] at = {0};
            slab.forEachRun(shape, (start, length) -> {
                System.arraycopy(values, Math.toIntExact(start), into, at[0], Math.toIntExact(length));
                at[0] += (int) length;
            });
        };
    }

    /** Writes into a tensor held in memory in row-major order. */
    public static Writer writer(double[] target, long[] shape) {
        return (slab, values) -> {
            int[] at = {0};
            slab.forEachRun(shape, (start, length) -> {
                System.arraycopy(values, at[0], target, Math.toIntExact(start), Math.toIntExact(length));
                at[0] += (int) length;
            });
        };
    }
}

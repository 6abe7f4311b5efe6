package io.rechannel.core;

import java.util.SplittableRandom;

/**
 * The channel arithmetic, written once for every format and layout (see {@link AxisView}): one routine
 * mixes a block holding every channel of the axis; tensors of any size are fed to it block by block
 * ({@link TensorLayout}), and a tensor in memory is the case of a single block.
 */
public final class ChannelMixer {

    private ChannelMixer() {
    }

    /**
     * Re-mixes a stored tensor block by block: reads it through {@code in}, writes the result through
     * {@code out}. Refuses (naming {@code tensor}) a source holding NaN or infinity (exit 4) and a result
     * that {@code type} cannot hold: non-finite, or for integer types not an integer or out of range (exit 7).
     */
    public static void mix(TensorLayout layout, Mixing mixing, Blocks.Reader in, Blocks.Writer out, ElementType type,
                           String tensor) {
        mix(layout, mixing, in, out, type, tensor, Blocks.budget());
    }

    public static void mix(TensorLayout layout, Mixing mixing, Blocks.Reader in, Blocks.Writer out, ElementType type,
                           String tensor, long budget) {
        run(layout, mixing, in, out, type, tensor, budget);
    }

    /** Re-mixes a tensor held in memory, as one block (no checks: the caller's values, the caller's rules). */
    public static double[] remix(double[] old, AxisView view, Mixing mixing) {
        if (old.length != view.size()) {
            throw new IllegalArgumentException("weight has " + old.length + " values, its view " + view.size());
        }
        TensorLayout layout = TensorLayout.of(view);
        TensorLayout next = layout.withChannels(mixing.rows());
        double[] result = new double[Math.toIntExact(next.size())];
        run(layout, mixing, Blocks.reader(old, layout.shape()), Blocks.writer(result, next.shape()), null, null,
                Long.MAX_VALUE);
        return result;
    }

    /** The one mixing loop; {@code type} null: no checks. */
    private static void run(TensorLayout layout, Mixing mixing, Blocks.Reader in, Blocks.Writer out, ElementType type,
                            String tensor, long budget) {
        double[][] w = mixing.weights();
        for (double[] row : w) {
            if (row.length != layout.view().count()) {
                throw new IllegalArgumentException("weight has " + layout.view().count() + " input channels, the map expects "
                        + row.length);
            }
        }
        TensorLayout next = layout.withChannels(mixing.rows());
        double[] stats = mixing.hasFresh() ? statistics(layout, in, type, tensor, budget) : null;
        for (TensorLayout.Block block : layout.mixingBlocks(budget, next.view().axisLength())) {
            Hyperslab slab = layout.hyperslab(block);
            double[] old = new double[Math.toIntExact(slab.size())];
            in.read(slab, old);
            if (type != null) {
                checkSource(old, type, tensor);
            }
            TensorLayout.Block target = next.sameBlock(block);
            double[] mixed = combine(old, layout.blockView(block), w, mixing.rows());
            if (stats != null) {
                fillFresh(mixed, next, target, mixing, stats);
            }
            if (type != null) {
                checkResult(mixed, type, tensor);
            }
            out.write(next.hyperslab(target), mixed);
        }
    }

    /**
     * Mixes a weight's input-channel slices with M: new slice j = Σ_i M[j][i] · old slice i. Channels
     * outside the view's segment are copied unchanged. Fresh channels are filled with seeded Gaussian
     * values having the mean and standard deviation of the old segment.
     */
    public static double[] mixWeight(double[] old, AxisView view, ChannelMap map, long seed) {
        return remix(old, view, Mixing.kernel(map, seed));
    }

    /**
     * Re-indexes per-channel constants (normalisation means, scales): new channel j gets
     * Σ_i W[j][i] · old constant i with W = {@link ChannelMap#constantWeights()}.
     */
    public static double[] remapConstants(double[] old, AxisView view, ChannelMap map) {
        return remix(old, view, Mixing.constants(map));
    }

    /**
     * The input the old layer sees for new input x': x_i = Σ_j M[j][i] · x'_j (that is, Mᵀx'),
     * with x' viewed through {@code newView}; the result has the old channel count.
     */
    public static double[] mapInput(double[] newInput, AxisView newView, ChannelMap map) {
        if (newView.count() != map.newCount() || newInput.length != newView.size()) {
            throw new IllegalArgumentException("input does not match the view");
        }
        double[][] m = map.matrix();
        double[][] transposed = new double[map.oldCount()][map.newCount()];
        for (int j = 0; j < map.newCount(); j++) {
            for (int i = 0; i < map.oldCount(); i++) {
                transposed[i][j] = m[j][i];
            }
        }
        return combine(newInput, newView, transposed, map.oldCount());
    }

    /** Refuses values read for mixing that are not finite (exit 4), naming the tensor. */
    public static void checkSource(double[] values, ElementType type, String tensor) {
        for (double v : values) {
            String refusal = type.sourceRefusal(v);
            if (refusal != null) {
                throw new RechannelException(Double.isFinite(v) ? RechannelException.Kind.INEXACT
                        : RechannelException.Kind.MALFORMED_FILE, tensor + " " + refusal
                        + (Double.isFinite(v) ? "" : "; rechannel adapts only finite weights"));
            }
        }
    }

    /** Refuses computed values that the tensor's element type cannot hold (exit 7), naming the tensor. */
    public static void checkResult(double[] values, ElementType type, String tensor) {
        for (double v : values) {
            String refusal = type.resultRefusal(v);
            if (refusal != null) {
                throw RechannelException.inexact(tensor + " (" + type + ") " + refusal + " after adaptation;"
                        + " the adaptation cannot be exact");
            }
        }
    }

    /** result slice r = Σ_s w[r][s] · source slice s, over the view's segment; other slices copied. */
    static double[] combine(double[] src, AxisView view, double[][] w, int rows) {
        AxisView out = view.withCount(rows);
        double[] dst = new double[Math.toIntExact(out.size())];
        long inner = view.inner();
        int srcAxis = view.axisLength();
        int dstAxis = out.axisLength();
        int offset = view.offset();
        int count = view.count();
        for (long o = 0; o < view.outer(); o++) {
            int srcBase = Math.toIntExact(o * srcAxis * inner);
            int dstBase = Math.toIntExact(o * dstAxis * inner);
            // channels before and after the segment are copied as they are
            System.arraycopy(src, srcBase, dst, dstBase, Math.toIntExact(offset * inner));
            int tail = srcAxis - offset - count;
            System.arraycopy(src, Math.toIntExact(srcBase + (offset + count) * inner), dst,
                    Math.toIntExact(dstBase + (offset + rows) * inner), Math.toIntExact(tail * inner));
            for (int r = 0; r < rows; r++) {
                int d = Math.toIntExact(dstBase + (offset + r) * inner);
                for (int s = 0; s < count; s++) {
                    double weight = w[r][s];
                    if (weight == 0) {
                        continue;
                    }
                    int sOff = Math.toIntExact(srcBase + (offset + s) * inner);
                    for (int k = 0; k < inner; k++) {
                        dst[d + k] += weight * src[sOff + k];
                    }
                }
            }
        }
        return dst;
    }

    /**
     * Mean and standard deviation of the old segment, summed in row-major order whatever the block
     * size, so that blocked and whole mixing agree bit for bit.
     */
    private static double[] statistics(TensorLayout layout, Blocks.Reader in, ElementType type, String tensor, long budget) {
        AxisView view = layout.view();
        double sum = 0;
        double sumSq = 0;
        long n = 0;
        for (TensorLayout.Block block : layout.flatBlocks(budget)) {
            Hyperslab slab = layout.hyperslab(block);
            double[] values = new double[Math.toIntExact(slab.size())];
            in.read(slab, values);
            if (type != null) {
                checkSource(values, type, tensor);
            }
            long flat = layout.flatStart(block);
            for (int i = 0; i < values.length; i++) {
                long channel = (flat + i) / view.inner() % view.axisLength() - view.offset();
                if (channel >= 0 && channel < view.count()) {
                    sum += values[i];
                    sumSq += values[i] * values[i];
                    n++;
                }
            }
        }
        double mean = sum / n;
        return new double[] {mean, Math.sqrt(Math.max(0, sumSq / n - mean * mean))};
    }

    /** Fresh channels get seeded Gaussian values that depend only on their position in the new tensor. */
    private static void fillFresh(double[] mixed, TensorLayout next, TensorLayout.Block block, Mixing mixing, double[] stats) {
        AxisView whole = next.view();
        AxisView local = next.blockView(block);
        long[] outer = next.outerIndices(block);
        long[] inner = next.innerIndices(block);
        for (int bo = 0; bo < outer.length; bo++) {
            for (int j = 0; j < mixing.rows(); j++) {
                if (!mixing.isFresh(j)) {
                    continue;
                }
                long globalBase = (outer[bo] * whole.axisLength() + whole.offset() + j) * whole.inner();
                int localBase = Math.toIntExact((bo * (long) local.axisLength() + local.offset() + j) * local.inner());
                for (int bk = 0; bk < inner.length; bk++) {
                    mixed[localBase + bk] = stats[0] + stats[1] * gaussian(mixing.seed(), globalBase + inner[bk]);
                }
            }
        }
    }

    private static double gaussian(long seed, long index) {
        return new SplittableRandom(seed ^ index * 0x9E3779B97F4A7C15L).nextGaussian();
    }
}

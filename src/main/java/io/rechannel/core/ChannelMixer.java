package io.rechannel.core;

import java.util.SplittableRandom;

/**
 * The channel arithmetic, written once for every format and layout (see {@link AxisView}).
 */
public final class ChannelMixer {

    private ChannelMixer() {
    }

    /**
     * Mixes a weight's input-channel slices with M: new slice j = Σ_i M[j][i] · old slice i. Channels
     * outside the view's segment are copied unchanged. Fresh channels are filled with seeded Gaussian
     * values having the mean and standard deviation of the old segment.
     */
    public static double[] mixWeight(double[] old, AxisView view, ChannelMap map, long seed) {
        checkSize(old, view, map);
        double[] mixed = combine(old, view, map.matrix(), map.newCount());
        if (map.hasFreshChannels()) {
            fillFresh(old, mixed, view, map, seed);
        }
        return mixed;
    }

    /**
     * Re-indexes per-channel constants (normalisation means, scales): new channel j gets
     * Σ_i W[j][i] · old constant i with W = {@link ChannelMap#constantWeights()}.
     */
    public static double[] remapConstants(double[] old, AxisView view, ChannelMap map) {
        checkSize(old, view, map);
        return combine(old, view, map.constantWeights(), map.newCount());
    }

    /** Re-indexes optimizer state with {@link ChannelMap#stateWeights()}. */
    public static double[] remapState(double[] old, AxisView view, ChannelMap map) {
        checkSize(old, view, map);
        return combine(old, view, map.stateWeights(), map.newCount());
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

    private static void fillFresh(double[] old, double[] mixed, AxisView view, ChannelMap map, long seed) {
        double sum = 0;
        double sumSq = 0;
        long n = 0;
        long inner = view.inner();
        for (long o = 0; o < view.outer(); o++) {
            for (int c = view.offset(); c < view.offset() + view.count(); c++) {
                int base = Math.toIntExact((o * view.axisLength() + c) * inner);
                for (int k = 0; k < inner; k++) {
                    double v = old[base + k];
                    sum += v;
                    sumSq += v * v;
                    n++;
                }
            }
        }
        double mean = sum / n;
        double std = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
        SplittableRandom random = new SplittableRandom(seed);
        AxisView out = view.withCount(map.newCount());
        for (long o = 0; o < out.outer(); o++) {
            for (int j = 0; j < map.newCount(); j++) {
                if (!map.isFresh(j)) {
                    continue;
                }
                int base = Math.toIntExact((o * out.axisLength() + out.offset() + j) * inner);
                for (int k = 0; k < inner; k++) {
                    mixed[base + k] = mean + std * random.nextGaussian();
                }
            }
        }
    }

    private static void checkSize(double[] old, AxisView view, ChannelMap map) {
        if (view.count() != map.oldCount()) {
            throw new IllegalArgumentException("weight has " + view.count() + " input channels, the map expects "
                    + map.oldCount());
        }
        if (old.length != view.size()) {
            throw new IllegalArgumentException("weight has " + old.length + " values, its view " + view.size());
        }
    }
}

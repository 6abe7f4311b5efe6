package io.rechannel.verify;

import io.rechannel.core.AxisView;
import io.rechannel.core.Blocks;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.core.StoredTensor;
import io.rechannel.core.TensorLayout;

import java.util.SplittableRandom;

/**
 * The numeric proof that an adapted layer is exact. A layer that mixes channels is linear in them, so
 * its output is a sum of kernel taps each applied to one position's channel vector. For random channel
 * vectors x', every tap of the adapted kernel must give what the same tap of the original kernel gives
 * for Mᵀx' (channels outside the adapted segment, and fresh channels, aside). Several random vectors
 * spanning the channel space make this equivalent to the whole layer being exact.
 *
 * <p>Kernels are read block by block (every tap is checked; memory does not grow with the kernel), and
 * a NaN or infinity anywhere in either kernel fails the check.
 */
public final class Verifier {

    /** float32 keeps 24 significant bits; allow a few roundings of every term. */
    public static final double RELATIVE_TOLERANCE = 1e-5;

    private Verifier() {
    }

    /**
     * The outcome for one weight: largest absolute and relative (to the sum of |terms|) tap difference,
     * whether both kernels hold only finite values, and whether the original has a nonzero tap on the
     * adapted channels (an all-zero kernel agrees with any map: it proves nothing).
     */
    public record TapCheck(double maxAbsDifference, double maxRelativeDifference, boolean finite, boolean provable) {
        public boolean passed() {
            return finite && maxRelativeDifference <= RELATIVE_TOLERANCE;
        }
    }

    /** Both kernels held in memory, laid out exactly as their views. */
    public static TapCheck checkTaps(double[] oldWeight, AxisView oldView, double[] newWeight, AxisView newView,
                                     ChannelMap map, long seed) {
        return checkTaps(StoredTensor.inMemory(oldWeight, oldView), StoredTensor.inMemory(newWeight, newView), map, seed,
                Blocks.budget());
    }

    /** Both kernels read block by block. */
    public static TapCheck checkTaps(StoredTensor original, StoredTensor adapted, ChannelMap map, long seed, long budget) {
        TensorLayout oldLayout = original.layout();
        TensorLayout newLayout = adapted.layout();
        AxisView oldView = oldLayout.view();
        AxisView newView = newLayout.view();
        if (newView.count() != map.newCount() || oldView.count() != map.oldCount()
                || !oldLayout.withChannels(map.newCount()).sameBut(newLayout)) {
            throw RechannelException.inexact("adapted weight has shape " + newView + ", expected the original's "
                    + oldView + " with " + map.newCount() + " channels");
        }
        double[][] xNew = trialInputs(newView, map, seed);
        double[][] xOld = new double[xNew.length][];
        for (int t = 0; t < xNew.length; t++) {
            xOld[t] = mappedInput(xNew[t], oldView, newView, map);
        }
        double maxAbs = 0;
        double maxRel = 0;
        boolean finite = true;
        boolean provable = false;
        for (TensorLayout.Block block : oldLayout.mixingBlocks(budget, newView.axisLength())) {
            TensorLayout.Block other = newLayout.sameBlock(block);
            double[] before = original.read(block);
            double[] after = adapted.read(other);
            finite &= allFinite(before) && allFinite(after);
            AxisView ov = oldLayout.blockView(block);
            AxisView nv = newLayout.blockView(other);
            int newAxis = nv.axisLength();
            int oldAxis = ov.axisLength();
            double[] tapNew = new double[newAxis];
            double[] tapOld = new double[oldAxis];
            for (long o = 0; o < ov.outer(); o++) {
                for (long k = 0; k < ov.inner(); k++) {
                    gather(after, nv, o, k, tapNew);
                    gather(before, ov, o, k, tapOld);
                    for (int c = ov.offset(); c < ov.offset() + ov.count() && !provable; c++) {
                        provable = tapOld[c] != 0;
                    }
                    for (int t = 0; t < xNew.length; t++) {
                        double yNew = 0;
                        double scale = 0;
                        for (int c = 0; c < newAxis; c++) {
                            double term = tapNew[c] * xNew[t][c];
                            yNew += term;
                            scale += Math.abs(term);
                        }
                        double yOld = 0;
                        for (int c = 0; c < oldAxis; c++) {
                            double term = tapOld[c] * xOld[t][c];
                            yOld += term;
                            scale += Math.abs(term);
                        }
                        double diff = Math.abs(yNew - yOld);
                        maxAbs = Math.max(maxAbs, diff);
                        if (!(diff <= 0)) {
                            // positive, or NaN: a NaN stays NaN and fails the comparison with the tolerance
                            maxRel = Math.max(maxRel, scale == 0 ? Double.POSITIVE_INFINITY : diff / scale);
                        }
                    }
                }
            }
        }
        return new TapCheck(maxAbs, maxRel, finite, provable);
    }

    /** Random channel vectors x' (fresh channels zero), enough of them to span the channel space. */
    private static double[][] trialInputs(AxisView newView, ChannelMap map, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int trials = Math.max(newView.axisLength(), 4) + 2;
        double[][] x = new double[trials][newView.axisLength()];
        for (double[] xNew : x) {
            for (int c = 0; c < xNew.length; c++) {
                xNew[c] = random.nextDouble(-1, 1);
            }
            for (int j = 0; j < map.newCount(); j++) {
                if (map.isFresh(j)) {
                    xNew[newView.offset() + j] = 0;
                }
            }
        }
        return x;
    }

    /** Mᵀx' over the segment; the channels around it pass through. */
    private static double[] mappedInput(double[] xNew, AxisView oldView, AxisView newView, ChannelMap map) {
        double[] xOld = new double[oldView.axisLength()];
        System.arraycopy(xNew, 0, xOld, 0, oldView.offset());
        for (int c = oldView.offset() + oldView.count(); c < xOld.length; c++) {
            xOld[c] = xNew[c - oldView.count() + newView.count()];
        }
        for (int i = 0; i < map.oldCount(); i++) {
            double sum = 0;
            for (int j = 0; j < map.newCount(); j++) {
                sum += map.weight(j, i) * xNew[newView.offset() + j];
            }
            xOld[oldView.offset() + i] = sum;
        }
        return xOld;
    }

    /** The channel vector of one kernel tap: W[o][c][k] for every c. */
    private static void gather(double[] weight, AxisView view, long o, long k, double[] into) {
        int at = (int) (o * view.axisLength() * view.inner() + k);
        int step = (int) view.inner();
        for (int c = 0; c < into.length; c++, at += step) {
            into[c] = weight[at];
        }
    }

    private static boolean allFinite(double[] values) {
        for (double v : values) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** Both weights held in memory, laid out exactly as their views. */
    public static ChannelMap recover(double[] oldWeight, AxisView oldView, double[] newWeight, AxisView newView,
                                     ChannelLayout from, ChannelLayout to) {
        return recover(StoredTensor.inMemory(oldWeight, oldView), StoredTensor.inMemory(newWeight, newView), from, to,
                Blocks.budget());
    }

    /**
     * Recovers the channel map from an original and an adapted weight by least squares: row j of M is
     * the combination of old slices closest to new slice j. A weight holding NaN or infinity gives no map.
     */
    public static ChannelMap recover(StoredTensor original, StoredTensor adapted, ChannelLayout from, ChannelLayout to,
                                     long budget) {
        TensorLayout oldLayout = original.layout();
        TensorLayout newLayout = adapted.layout();
        AxisView oldView = oldLayout.view();
        AxisView newView = newLayout.view();
        int m = oldView.count();
        int n = newView.count();
        if (!oldLayout.withChannels(n).sameBut(newLayout)) {
            throw RechannelException.inexact("adapted weight has shape " + newView + ", expected the original's "
                    + oldView + " with other channels");
        }
        double[][] gram = new double[m][m];
        double[][] cross = new double[n][m];
        for (TensorLayout.Block block : oldLayout.mixingBlocks(budget, newView.axisLength())) {
            TensorLayout.Block other = newLayout.sameBlock(block);
            double[] before = original.read(block);
            double[] after = adapted.read(other);
            if (!allFinite(before) || !allFinite(after)) {
                throw RechannelException.inexact("the " + (allFinite(before) ? "adapted" : "original")
                        + " weight holds NaN or infinity: no channel map can be recovered, and none would be exact");
            }
            AxisView ov = oldLayout.blockView(block);
            AxisView nv = newLayout.blockView(other);
            for (int a = 0; a < m; a++) {
                for (int b = 0; b < m; b++) {
                    gram[a][b] += dot(before, ov, a, before, ov, b);
                }
                for (int j = 0; j < n; j++) {
                    cross[j][a] += dot(before, ov, a, after, nv, j);
                }
            }
        }
        double[][] matrix = new double[n][m];
        for (int j = 0; j < n; j++) {
            matrix[j] = solve(gram, cross[j]);
            for (int i = 0; i < m; i++) {
                if (!Double.isFinite(matrix[j][i])) {
                    throw RechannelException.unprovable("the recovered channel map holds " + matrix[j][i]
                            + " for channel " + to.name(j) + ": the adapted weight is no mix of the original's channels");
                }
                double rounded = Math.round(matrix[j][i] * 1e6) / 1e6;
                if (Math.abs(rounded - matrix[j][i]) < 1e-6) {
                    matrix[j][i] = rounded;
                }
            }
        }
        return ChannelMap.ofMatrix(from, to, matrix);
    }

    private static double dot(double[] w1, AxisView v1, int c1, double[] w2, AxisView v2, int c2) {
        double sum = 0;
        for (long o = 0; o < v1.outer(); o++) {
            for (long k = 0; k < v1.inner(); k++) {
                sum += w1[(int) ((o * v1.axisLength() + v1.offset() + c1) * v1.inner() + k)]
                        * w2[(int) ((o * v2.axisLength() + v2.offset() + c2) * v2.inner() + k)];
            }
        }
        return sum;
    }

    /** Gaussian elimination with partial pivoting; a singular system means the old slices are dependent. */
    private static double[] solve(double[][] a, double[] b) {
        int n = b.length;
        double[][] m = new double[n][n + 1];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, m[i], 0, n);
            m[i][n] = b[i];
        }
        double scale = 0;
        for (double[] row : a) {
            for (double v : row) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) {
                    pivot = r;
                }
            }
            if (Math.abs(m[pivot][col]) <= 1e-12 * scale || scale == 0) {
                throw RechannelException.unprovable("the original weight's channel slices are linearly dependent (all zero?);"
                        + " the channel map cannot be recovered from it: give " + OptionName.TO + " and " + OptionName.INIT + " to verify");
            }
            double[] tmp = m[col];
            m[col] = m[pivot];
            m[pivot] = tmp;
            for (int r = 0; r < n; r++) {
                if (r != col) {
                    double f = m[r][col] / m[col][col];
                    for (int c = col; c <= n; c++) {
                        m[r][c] -= f * m[col][c];
                    }
                }
            }
        }
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = m[i][n] / m[i][i];
        }
        return x;
    }
}

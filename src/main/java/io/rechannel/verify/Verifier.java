package io.rechannel.verify;

import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.RechannelException;

import java.util.SplittableRandom;

/**
 * The numeric proof that an adapted layer is exact. A layer that mixes channels is linear in them, so
 * its output is a sum of kernel taps each applied to one position's channel vector. For random channel
 * vectors x', every tap of the adapted kernel must give what the same tap of the original kernel gives
 * for Mᵀx' (channels outside the adapted segment, and fresh channels, aside). Several random vectors
 * spanning the channel space make this equivalent to the whole layer being exact.
 */
public final class Verifier {

    /** float32 keeps 24 significant bits; allow a few roundings of every term. */
    public static final double RELATIVE_TOLERANCE = 1e-5;

    private Verifier() {
    }

    /** The outcome for one weight: largest absolute and relative (to the sum of |terms|) tap difference. */
    public record TapCheck(double maxAbsDifference, double maxRelativeDifference) {
        public boolean passed() {
            return maxRelativeDifference <= RELATIVE_TOLERANCE;
        }
    }

    public static TapCheck checkTaps(double[] oldWeight, AxisView oldView, double[] newWeight, AxisView newView,
                                     ChannelMap map, long seed) {
        if (oldView.outer() != newView.outer() || oldView.inner() != newView.inner()
                || newView.count() != map.newCount() || oldView.count() != map.oldCount()) {
            throw RechannelException.inexact("adapted weight has shape " + newView + ", expected the original's "
                    + oldView + " with " + map.newCount() + " channels");
        }
        SplittableRandom random = new SplittableRandom(seed);
        int trials = Math.max(newView.axisLength(), 4) + 2;
        double maxAbs = 0;
        double maxRel = 0;
        double[][] m = map.matrix();
        for (int t = 0; t < trials; t++) {
            double[] xNew = new double[newView.axisLength()];
            for (int c = 0; c < xNew.length; c++) {
                xNew[c] = random.nextDouble(-1, 1);
            }
            for (int j = 0; j < map.newCount(); j++) {
                if (map.isFresh(j)) {
                    xNew[newView.offset() + j] = 0;
                }
            }
            double[] xOld = new double[oldView.axisLength()];
            for (int c = 0; c < oldView.offset(); c++) {
                xOld[c] = xNew[c];
            }
            for (int c = oldView.offset() + oldView.count(); c < xOld.length; c++) {
                xOld[c] = xNew[c - oldView.count() + newView.count()];
            }
            for (int i = 0; i < map.oldCount(); i++) {
                double sum = 0;
                for (int j = 0; j < map.newCount(); j++) {
                    sum += m[j][i] * xNew[newView.offset() + j];
                }
                xOld[oldView.offset() + i] = sum;
            }
            for (long o = 0; o < oldView.outer(); o++) {
                for (long k = 0; k < oldView.inner(); k++) {
                    double[] yNew = tap(newWeight, newView, o, k, xNew);
                    double[] yOld = tap(oldWeight, oldView, o, k, xOld);
                    double diff = Math.abs(yNew[0] - yOld[0]);
                    double scale = yNew[1] + yOld[1];
                    maxAbs = Math.max(maxAbs, diff);
                    if (diff > 0) {
                        maxRel = Math.max(maxRel, scale == 0 ? Double.POSITIVE_INFINITY : diff / scale);
                    }
                }
            }
        }
        return new TapCheck(maxAbs, maxRel);
    }

    /** {Σ_c W[o][c][k]·x_c, Σ_c |W[o][c][k]·x_c|}. */
    private static double[] tap(double[] weight, AxisView view, long o, long k, double[] x) {
        double sum = 0;
        double abs = 0;
        for (int c = 0; c < view.axisLength(); c++) {
            double term = weight[(int) ((o * view.axisLength() + c) * view.inner() + k)] * x[c];
            sum += term;
            abs += Math.abs(term);
        }
        return new double[] {sum, abs};
    }

    /**
     * Recovers the channel map from an original and an adapted weight by least squares: row j of M is
     * the combination of old slices closest to new slice j. Rows that no combination reproduces
     * (relative residual above tolerance) are reported as fresh.
     */
    public static ChannelMap recover(double[] oldWeight, AxisView oldView, double[] newWeight, AxisView newView,
                                     ChannelLayout from, ChannelLayout to) {
        int m = oldView.count();
        int n = newView.count();
        double[][] gram = new double[m][m];
        for (int a = 0; a < m; a++) {
            for (int b = 0; b < m; b++) {
                gram[a][b] = dot(oldWeight, oldView, a, oldWeight, oldView, b);
            }
        }
        double[][] matrix = new double[n][m];
        for (int j = 0; j < n; j++) {
            double[] rhs = new double[m];
            for (int a = 0; a < m; a++) {
                rhs[a] = dot(oldWeight, oldView, a, newWeight, newView, j);
            }
            matrix[j] = solve(gram, rhs);
            for (int i = 0; i < m; i++) {
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
                throw RechannelException.inexact("the original weight's channel slices are linearly dependent (all zero?);"
                        + " the channel map cannot be recovered from it: pass --to and --init to verify");
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

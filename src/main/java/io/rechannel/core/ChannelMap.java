package io.rechannel.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one description of every adaptation: a matrix M of (new channels × old channels). Along the
 * input-channel axis of a weight, new slice j = Σ_i M[j][i] · old slice i, so that a layer adapted
 * with M computes on new input x' exactly what the old layer computes on Mᵀx'.
 *
 * <p>A channel may also be <em>fresh</em>: its row of M is zero and its slice is drawn at random
 * (seeded) with the statistics of the old weight. The identity above then holds for inputs whose
 * fresh channels are zero.
 */
public final class ChannelMap {

    private final ChannelLayout from;
    private final ChannelLayout to;
    private final double[][] matrix;
    private final boolean[] fresh;
    private final long seed;
    private final List<String> rules;

    ChannelMap(ChannelLayout from, ChannelLayout to, double[][] matrix, boolean[] fresh, long seed,
               List<String> rules) {
        if (matrix.length != to.size()) {
            throw new IllegalArgumentException("matrix has " + matrix.length + " rows for " + to.size() + " channels");
        }
        for (double[] row : matrix) {
            if (row.length != from.size()) {
                throw new IllegalArgumentException("matrix row has " + row.length + " columns for " + from.size());
            }
        }
        this.from = from;
        this.to = to;
        this.matrix = deepCopy(matrix);
        this.fresh = fresh.clone();
        this.seed = seed;
        this.rules = List.copyOf(rules);
    }

    /** A map given directly by its matrix; no channel is fresh. */
    public static ChannelMap ofMatrix(ChannelLayout from, ChannelLayout to, double[][] matrix) {
        List<String> rules = new ArrayList<>();
        for (int j = 0; j < to.size(); j++) {
            rules.add(to.name(j) + "=" + ChannelMapParser.formatRow(from, matrix[j]));
        }
        return new ChannelMap(from, to, matrix, new boolean[to.size()], 0, rules);
    }

    /** Builds the map from {@code --init} rules; see {@link ChannelMapParser}. */
    public static ChannelMap build(ChannelLayout from, ChannelLayout to, List<String> inits, long seed) {
        return ChannelMapParser.build(from, to, inits, seed);
    }

    public ChannelLayout from() {
        return from;
    }

    public ChannelLayout to() {
        return to;
    }

    public int oldCount() {
        return from.size();
    }

    public int newCount() {
        return to.size();
    }

    public double weight(int newChannel, int oldChannel) {
        return matrix[newChannel][oldChannel];
    }

    public double[][] matrix() {
        return deepCopy(matrix);
    }

    public boolean isFresh(int newChannel) {
        return fresh[newChannel];
    }

    public boolean hasFreshChannels() {
        for (boolean f : fresh) {
            if (f) {
                return true;
            }
        }
        return false;
    }

    public long seed() {
        return seed;
    }

    /** How each new channel was made, e.g. {@code Y=B} or {@code Y=0.333*R+0.333*G+0.333*B}. */
    public List<String> rules() {
        return rules;
    }

    /** The old channel that new channel j is an unchanged copy of, or -1. */
    public int copiedFrom(int newChannel) {
        if (fresh[newChannel]) {
            return -1;
        }
        int source = -1;
        for (int i = 0; i < from.size(); i++) {
            double w = matrix[newChannel][i];
            if (w == 1.0 && source < 0) {
                source = i;
            } else if (w != 0.0) {
                return -1;
            }
        }
        return source;
    }

    /** True when every new channel is made from at most one old channel (copies, scaled copies, zeros). */
    public boolean hasSingleSourceRows() {
        for (int j = 0; j < to.size(); j++) {
            int sources = 0;
            for (int i = 0; i < from.size(); i++) {
                sources += matrix[j][i] != 0 ? 1 : 0;
            }
            if (sources > 1 || fresh[j]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The map's pattern: 1 where M is non-zero. A separable convolution's depthwise kernel is copied
     * along this pattern while its pointwise kernel carries the weights of M.
     */
    public ChannelMap support() {
        double[][] pattern = new double[to.size()][from.size()];
        for (int j = 0; j < to.size(); j++) {
            for (int i = 0; i < from.size(); i++) {
                pattern[j][i] = matrix[j][i] != 0 ? 1 : 0;
            }
        }
        return new ChannelMap(from, to, pattern, fresh, seed, rules);
    }

    /**
     * What this map does to a kernel's channel slices, in words, for the report: {@code reordered} (channels
     * kept by name move), {@code copied} (a new channel is a copy of an old one), {@code zero}, {@code mixed} (a
     * combination or a scaled copy of old channels), {@code random}, {@code dropped} (an old channel feeds no new
     * one), those that apply joined by commas; {@code kept} when none does.
     */
    public String kernelChange() {
        boolean reordered = false;
        boolean copied = false;
        boolean zero = false;
        boolean mixed = false;
        boolean random = false;
        boolean[] used = new boolean[from.size()];
        int lastKept = -1;
        for (int j = 0; j < to.size(); j++) {
            int source = copiedFrom(j);
            for (int i = 0; i < from.size(); i++) {
                used[i] |= matrix[j][i] != 0;
            }
            if (fresh[j]) {
                random = true;
            } else if (source >= 0 && from.name(source).equals(to.name(j))) {
                reordered |= source < lastKept;
                lastKept = Math.max(lastKept, source);
            } else if (source >= 0) {
                copied = true;
            } else if (Arrays.stream(matrix[j]).allMatch(w -> w == 0)) {
                zero = true;
            } else {
                mixed = true;
            }
        }
        boolean dropped = false;
        for (boolean u : used) {
            dropped |= !u;
        }
        List<String> words = new ArrayList<>();
        String[] names = {"reordered", "copied", "zero", "mixed", "random", "dropped"};
        boolean[] apply = {reordered, copied, zero, mixed, random, dropped};
        for (int k = 0; k < names.length; k++) {
            if (apply[k]) {
                words.add(names[k]);
            }
        }
        return words.isEmpty() ? "kept" : String.join(", ", words);
    }

    /** True when M is the identity: nothing would change. */
    public boolean isIdentity() {
        if (from.size() != to.size()) {
            return false;
        }
        for (int j = 0; j < to.size(); j++) {
            if (copiedFrom(j) != j) {
                return false;
            }
        }
        return true;
    }

    /**
     * Weights for per-channel constants (normalisation means, scales, ...), which are not mixed
     * like kernels but belong to one channel each. A new channel with the same name as an old one
     * keeps that channel's constants; any other takes the average of its sources' constants weighted
     * by |M[j][i]|, or of all old channels when it has no source (zeros, random).
     */
    public double[][] constantWeights() {
        double[][] w = new double[to.size()][from.size()];
        for (int j = 0; j < to.size(); j++) {
            int same = from.indexOf(to.name(j));
            if (same >= 0) {
                w[j][same] = 1.0;
                continue;
            }
            double total = 0;
            for (int i = 0; i < from.size(); i++) {
                total += Math.abs(matrix[j][i]);
            }
            for (int i = 0; i < from.size(); i++) {
                w[j][i] = total == 0 ? 1.0 / from.size() : Math.abs(matrix[j][i]) / total;
            }
        }
        return w;
    }

    /**
     * Weights for optimizer state (momenta, velocities): a channel kept by name keeps its state, any
     * other starts at zero, as a weight that has never been updated.
     */
    public double[][] stateWeights() {
        double[][] w = new double[to.size()][from.size()];
        for (int j = 0; j < to.size(); j++) {
            int same = from.indexOf(to.name(j));
            if (same >= 0) {
                w[j][same] = 1.0;
            }
        }
        return w;
    }

    /**
     * This map applied to several slices of one axis at once (a layer reading a concatenation that holds the
     * input more than once): old channels {@code [0, span)} hold a copy of the input at each of {@code starts}
     * (ascending, the first 0), and the channels between copies belong to other tensors, which the result keeps
     * (identity rows, kept by name). The copies' channels are named {@code R}, {@code R#1}, ... and the others
     * {@code ~p}, so per-channel constants and optimizer state follow the same rules as for one slice.
     */
    public ChannelMap onSlices(int[] starts, int span) {
        int n = from.size();
        int grow = to.size() - n;
        int newSpan = span + starts.length * grow;
        List<String> oldNames = new ArrayList<>();
        List<String> newNames = new ArrayList<>();
        double[][] big = new double[newSpan][span];
        boolean[] bigFresh = new boolean[newSpan];
        int slice = 0;
        for (int p = 0; p < span; ) {
            int row = newNames.size();
            if (slice < starts.length && p == starts[slice]) {
                String suffix = slice == 0 ? "" : "#" + slice;
                for (int i = 0; i < n; i++) {
                    oldNames.add(from.name(i) + suffix);
                }
                for (int j = 0; j < to.size(); j++) {
                    newNames.add(to.name(j) + suffix);
                    System.arraycopy(matrix[j], 0, big[row + j], p, n);
                    bigFresh[row + j] = fresh[j];
                }
                p += n;
                slice++;
            } else {
                oldNames.add("~" + p);
                newNames.add("~" + p);
                big[row][p] = 1;
                p++;
            }
        }
        if (slice != starts.length || newNames.size() != newSpan) {
            throw new IllegalArgumentException("slices " + Arrays.toString(starts) + " do not fit a span of " + span);
        }
        return new ChannelMap(new ChannelLayout(oldNames), new ChannelLayout(newNames), big, bigFresh, seed, rules);
    }

    private static double[][] deepCopy(double[][] m) {
        double[][] copy = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            copy[i] = m[i].clone();
        }
        return copy;
    }

    @Override
    public String toString() {
        return from + " -> " + to + " " + rules;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChannelMap other && from.equals(other.from) && to.equals(other.to)
                && Arrays.deepEquals(matrix, other.matrix) && Arrays.equals(fresh, other.fresh)
                && seed == other.seed;
    }

    @Override
    public int hashCode() {
        return from.hashCode() * 31 + to.hashCode();
    }
}

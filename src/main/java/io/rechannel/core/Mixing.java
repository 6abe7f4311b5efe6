package io.rechannel.core;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * What a re-mix makes of each new channel: new slice r = Σ_s weights[r][s] · old slice s, except
 * fresh channels (seeded Gaussian values with the old segment's mean and standard deviation).
 */
public record Mixing(double[][] weights, boolean[] fresh, long seed) {

    public Mixing {
        weights = deepCopy(weights);
        fresh = fresh.clone();
        if (fresh.length != weights.length) {
            throw new IllegalArgumentException(weights.length + " rows but " + fresh.length + " fresh flags");
        }
    }

    /** A kernel mixed by the channel map M. */
    public static Mixing kernel(ChannelMap map, long seed) {
        boolean[] fresh = new boolean[map.newCount()];
        for (int j = 0; j < fresh.length; j++) {
            fresh[j] = map.isFresh(j);
        }
        return new Mixing(map.matrix(), fresh, seed);
    }

    /** Per-channel constants, re-indexed with {@link ChannelMap#constantWeights()}. */
    public static Mixing constants(ChannelMap map) {
        return new Mixing(map.constantWeights(), new boolean[map.newCount()], 0);
    }

    /** Optimizer state, re-indexed with {@link ChannelMap#stateWeights()}. */
    public static Mixing state(ChannelMap map) {
        return new Mixing(map.stateWeights(), new boolean[map.newCount()], 0);
    }

    public int rows() {
        return weights.length;
    }

    public double weight(int row, int column) {
        return weights[row][column];
    }

    @Override
    public double[][] weights() {
        return deepCopy(weights);
    }

    public boolean isFresh(int row) {
        return fresh[row];
    }

    public boolean hasFresh() {
        return IntStream.range(0, fresh.length).anyMatch(r -> fresh[r]);
    }

    private static double[][] deepCopy(double[][] m) {
        return Arrays.stream(m).map(double[]::clone).toArray(double[][]::new);
    }
}

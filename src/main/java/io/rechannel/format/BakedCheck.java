package io.rechannel.format;

import io.rechannel.core.OptionName;

import java.util.List;

/**
 * Verifies preprocessing that {@code --bake-preprocessing} put into a model: the constants it holds must be the
 * input contract's means and stds for the adapted channels, as the original's contract extends them, within the
 * rounding of the type they are stored in (float32: relative {@value #TOLERANCE}).
 */
public final class BakedCheck {

    /** Relative tolerance: float32's rounding of a constant, with room to spare. */
    public static final double TOLERANCE = 1e-6;

    private BakedCheck() {
    }

    /**
     * The check of one baked layer or node pair, named {@code where}: {@code mean}/{@code std} as stored (per channel),
     * {@code expected} the contract the adapted model must meet before baking.
     */
    public static VerifyResult.LayerCheck of(String where, double[] mean, double[] std, InputContract expected) {
        double maxAbs = 0;
        double maxRel = 0;
        boolean sized = mean.length == expected.mean().size() && std.length == expected.std().size();
        for (int c = 0; sized && c < mean.length; c++) {
            for (double[] pair : List.of(new double[] {mean[c], expected.mean().get(c)},
                    new double[] {std[c], expected.std().get(c)})) {
                double diff = Math.abs(pair[0] - pair[1]);
                if (!Double.isFinite(pair[0])) {
                    diff = Double.POSITIVE_INFINITY;
                }
                maxAbs = Math.max(maxAbs, diff);
                maxRel = Math.max(maxRel, diff / Math.max(1e-12, Math.abs(pair[1])));
            }
        }
        return new VerifyResult.LayerCheck(where, "baked preprocessing (mean, std)", sized ? maxAbs : Double.NaN,
                sized ? maxRel : Double.NaN, sized && maxRel <= TOLERANCE);
    }

    /**
     * What a verifier says when it finds baked preprocessing it cannot check: the channel map was recovered, not
     * given ({@code expected} null: a recovered map names the new channels by position, not by what they are), or
     * what the original expects outside itself is unknown.
     */
    public static String unchecked(String where, InputContract expected) {
        return "preprocessing baked in (" + where + ") is not checked: " + (expected == null
                ? "give " + OptionName.TO + " and " + OptionName.INIT + " as extend was given them (and " + OptionName.NORM
                        + " if it was) to check its constants"
                : "what the original expects outside itself is not known (" + expected.source()
                        + "); give the " + OptionName.NORM + " it was made with");
    }
}

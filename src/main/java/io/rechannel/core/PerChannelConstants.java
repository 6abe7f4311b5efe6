package io.rechannel.core;

import java.util.List;
import java.util.Map;

/**
 * The adaptation of per-channel constants (normalisation statistics, scales), the same for every format:
 * the old values must be finite, each new channel gets {@link ChannelMap#constantWeights()} of them, the user's
 * statistics for new channels are written into the constants of the first normalisation, and the results must
 * fit the element type.
 */
public final class PerChannelConstants {

    private PerChannelConstants() {
    }

    /**
     * The new values of one tensor of constants viewed as {@code view}.
     *
     * @param sliced    the map along the view's segment ({@link ChannelMap#onSlices} for a concatenation)
     * @param statistic what the tensor holds of the first normalisation, or null (the user's statistics do not apply)
     * @param where     names the tensor in messages
     */
    public static double[] adapt(double[] old, AxisView view, ChannelMap sliced, Statistic statistic,
                                 Map<String, ChannelStats> stats, ElementType type, String where) {
        ChannelMixer.checkSource(old, type, where);
        double[] values = ChannelMixer.remapConstants(old, view, sliced);
        if (statistic != null) {
            AxisView out = view.withCount(sliced.newCount());
            for (Map.Entry<String, ChannelStats> entry : stats.entrySet()) {
                out.fillChannel(values, sliced.to().indexOf(entry.getKey()), statistic.of(entry.getValue()));
            }
        }
        ChannelMixer.checkResult(values, type, where);
        return values;
    }

    /** A tensor of constants the user's statistics may go to: where it holds which statistic, and how often it reads the input. */
    public record Target(String name, Statistic statistic, int slices) {
    }

    /**
     * Refuses statistics for new channels that no constant would take, or that would go to a normalisation reading
     * the input's channels more than once (behind a concatenation: which copy would they describe?).
     *
     * @param targets      the constants that hold a statistic of the first normalisation
     * @param input        the input's name, or null (a state dict names none)
     * @param searched     what the format looked for, for the message ({@code a Normalization or BatchNormalization layer})
     * @param outsideKnown the preprocessing outside the model is known: without targets, the statistics go to the
     *                     input contract instead
     */
    public static void checkStatsTargets(Map<String, ChannelStats> stats, List<Target> targets, String source,
                                         String input, String searched, boolean outsideKnown) {
        if (stats.isEmpty() || targets.isEmpty() && outsideKnown) {
            return;
        }
        if (targets.isEmpty()) {
            throw RechannelException.usage(source + ": " + OptionName.STATS + " given but no " + searched
                    + " normalises " + (input == null ? "the input" : "input '" + input + "'") + " before the adapted layers,"
                    + " and the preprocessing outside the model is unknown (state it with " + OptionName.NORM + ")");
        }
        for (Target target : targets) {
            if (target.slices() > 1) {
                throw RechannelException.usage(source + ": " + OptionName.STATS + " given but " + target.name()
                        + ", the first normalisation, reads the input's channels more than once (behind a concatenation);"
                        + " rechannel sets " + OptionName.STATS + " only where they are read once");
            }
        }
    }
}

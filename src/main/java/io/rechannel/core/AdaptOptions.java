package io.rechannel.core;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the user asked for, independent of the file format.
 *
 * @param from               the existing channels, or null for the default (RGB for 3 channels)
 * @param to                 the channels wanted
 * @param inits              {@code --init} rules
 * @param seed               seed for random initialisation
 * @param input              the input to adapt, or null for the only one
 * @param channelIndependent layers the user declares to treat every channel alike
 * @param stats              statistics for new channels, by name
 * @param dropOptimizer      remove optimizer state instead of adapting it
 * @param layer              for files without a model config: the layer reading the input, or null
 * @param config             for files without a model config: a file that has it (a .keras archive or its config.json), or null
 * @param tensors            for state dicts (no graph): the weights reading the input ({@code --tensor}); empty to find them by name
 * @param norm               the normalisation the original model was trained with, outside it ({@code --norm}), or null
 * @param bake               put the outside preprocessing into the new model as layers ({@code --bake-preprocessing})
 */
public record AdaptOptions(ChannelLayout from, ChannelLayout to, List<String> inits, long seed, String input,
                           Set<String> channelIndependent, Map<String, ChannelStats> stats, boolean dropOptimizer,
                           String layer, java.nio.file.Path config, List<String> tensors, NormSpec norm, boolean bake) {

    public AdaptOptions {
        inits = List.copyOf(inits);
        tensors = tensors == null ? List.of() : List.copyOf(tensors);
        channelIndependent = Set.copyOf(channelIndependent);
        stats = Map.copyOf(stats);
    }

    public AdaptOptions(ChannelLayout from, ChannelLayout to, List<String> inits, long seed, String input,
                        Set<String> channelIndependent, Map<String, ChannelStats> stats, boolean dropOptimizer,
                        String layer, java.nio.file.Path config) {
        this(from, to, inits, seed, input, channelIndependent, stats, dropOptimizer, layer, config, List.of());
    }

    public AdaptOptions(ChannelLayout from, ChannelLayout to, List<String> inits, long seed, String input,
                        Set<String> channelIndependent, Map<String, ChannelStats> stats, boolean dropOptimizer,
                        String layer, java.nio.file.Path config, List<String> tensors) {
        this(from, to, inits, seed, input, channelIndependent, stats, dropOptimizer, layer, config, tensors, null, false);
    }

    /**
     * Refuses a format-specific choice ({@code --layer}, {@code --config}, {@code --tensor}) given for a
     * model whose format has no use for it, rather than ignoring it silently.
     *
     * @param accepted the choices the format reads, by option name
     */
    public void refuseUnused(String file, String format, Set<String> accepted) {
        Map<String, Boolean> given = new java.util.LinkedHashMap<>();
        given.put("--layer", layer != null);
        given.put("--config", config != null);
        given.put("--tensor", !tensors.isEmpty());
        given.forEach((option, present) -> {
            if (present && !accepted.contains(option)) {
                throw RechannelException.usage(file + ": " + option + " does not apply to " + format + " files");
            }
        });
    }

    /** The same options naming the state-dict weights that read the input. */
    public AdaptOptions withTensors(List<String> names) {
        return new AdaptOptions(from, to, inits, seed, input, channelIndependent, stats, dropOptimizer, layer, config, names,
                norm, bake);
    }

    /** The same options stating the original's outside normalisation ({@code --norm}; null: not given). */
    public AdaptOptions withNorm(NormSpec outside) {
        return new AdaptOptions(from, to, inits, seed, input, channelIndependent, stats, dropOptimizer, layer, config, tensors,
                outside, bake);
    }

    /** The same options asking (or not) to put the outside preprocessing into the new model. */
    public AdaptOptions withBake(boolean bakePreprocessing) {
        return new AdaptOptions(from, to, inits, seed, input, channelIndependent, stats, dropOptimizer, layer, config, tensors,
                norm, bakePreprocessing);
    }

    /** Options that analyse a model without changing it (inspect, verify). */
    public static AdaptOptions analysisOnly(String input, Set<String> channelIndependent, String layer,
                                            java.nio.file.Path config) {
        return new AdaptOptions(null, null, List.of(), 0, input, channelIndependent, Map.of(), false, layer, config);
    }

    /** The same analysis choices without a channel map (the outside normalisation and baking kept). */
    public AdaptOptions analysisOnly() {
        return analysisOnly(input, channelIndependent, layer, config).withTensors(tensors).withNorm(norm).withBake(bake);
    }

    /** The existing channels: {@code --from}, or the default for the count (RGB for 3). */
    public ChannelLayout fromLayout(int oldChannels) {
        return from != null ? from : ChannelLayout.defaultFor(oldChannels);
    }

    /** The map for a model whose adapted input has {@code oldChannels} channels. */
    public ChannelMap channelMap(int oldChannels, String source) {
        ChannelLayout old = fromLayout(oldChannels);
        if (old.size() != oldChannels) {
            throw RechannelException.usage(source + ": --from " + old + " names " + old.size()
                    + " channels but the model's input has " + oldChannels);
        }
        if (to == null) {
            throw RechannelException.usage("--to is required");
        }
        ChannelLayout target = to;
        if (to.isNumbered()) {
            // a plain count keeps the old names for the channels that stay
            target = old.resized(to.size());
        } else if (from == null && old.isNumbered()) {
            boolean overlap = to.names().stream().anyMatch(n -> old.indexOf(n) >= 0);
            boolean timm = inits.stream().anyMatch(r -> r.trim().equalsIgnoreCase("timm"));
            if (!overlap && !timm) {
                throw RechannelException.usage(source + ": the model's input has " + oldChannels + " channel"
                        + (oldChannels == 1 ? "" : "s") + " and --to " + to + " names none of them; say what they are with --from"
                        + (oldChannels == 1 ? " (e.g. --from L)" : ""));
            }
        }
        for (String name : stats.keySet()) {
            if (target.indexOf(name) < 0) {
                throw RechannelException.usage("--stats " + name + ": not one of the new channels " + target);
            }
        }
        return ChannelMap.build(old, target, inits, seed);
    }
}

package io.rechannel.core;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * What the user asked for, independent of the file format; built fluently from {@link #to(String)},
 * {@link #of(ChannelMap)} or {@link #defaults()}, every choice not made left at its default:
 * {@code AdaptOptions.to("RGBY").from("BGR").init("Y=B")}.
 *
 * @param from               the existing channels, or null for the default (RGB for 3 channels)
 * @param to                 the channels wanted, or null when {@code map} is given (or for analysis only)
 * @param inits              rules for the new channels ({@code Y=B}); see {@link ChannelMapParser}
 * @param map                the channel map itself, instead of {@code to}/{@code inits}; null to build it from them
 * @param seed               seed for random initialisation
 * @param input              the input to adapt, or null for the only one
 * @param channelIndependent layers the user declares to treat every channel alike
 * @param stats              statistics for new channels, by name
 * @param dropsOptimizer     remove optimizer state instead of adapting it
 * @param overwrites         an existing output may be replaced
 * @param formatOptions      choices only some formats read (a layer, a config file, state-dict tensors)
 * @param norm               the normalisation the original model was trained with, outside it ({@code --norm}), or null
 * @param bake               put the outside preprocessing into the new model as layers ({@code --bake-preprocessing})
 * @param progress           hears of long steps; {@link ProgressListener#SILENT} by default
 */
public record AdaptOptions(ChannelLayout from, ChannelLayout to, List<String> inits, ChannelMap map, long seed,
                           String input, Set<String> channelIndependent, Map<String, ChannelStats> stats,
                           boolean dropsOptimizer, boolean overwrites, FormatOptions formatOptions,
                           NormSpec norm, boolean bake, ProgressListener progress) {

    public AdaptOptions {
        inits = List.copyOf(inits);
        channelIndependent = Set.copyOf(channelIndependent);
        stats = Map.copyOf(stats);
        formatOptions = formatOptions == null ? FormatOptions.NONE : formatOptions;
        progress = progress == null ? ProgressListener.SILENT : progress;
    }

    /** The options as positional arguments (format-specific choices given one by one). */
    public AdaptOptions(ChannelLayout from, ChannelLayout to, List<String> inits, long seed, String input,
                        Set<String> channelIndependent, Map<String, ChannelStats> stats, boolean dropOptimizer,
                        String layer, Path config, List<String> tensors) {
        this(from, to, inits, null, seed, input, channelIndependent, stats, dropOptimizer, false,
                new FormatOptions(layer, config, tensors), null, false, ProgressListener.SILENT);
    }

    public AdaptOptions(ChannelLayout from, ChannelLayout to, List<String> inits, long seed, String input,
                        Set<String> channelIndependent, Map<String, ChannelStats> stats, boolean dropOptimizer,
                        String layer, Path config) {
        this(from, to, inits, seed, input, channelIndependent, stats, dropOptimizer, layer, config, List.of());
    }

    /** Nothing chosen: for analysis ({@code inspect}) and for verification that recovers the map. */
    public static AdaptOptions defaults() {
        return new AdaptOptions(null, null, List.of(), null, 0, null, Set.of(), Map.of(), false, false,
                FormatOptions.NONE, null, false, ProgressListener.SILENT);
    }

    /** Options for new channels {@code spec}: letters ({@code RGBY}), a comma list or a count. */
    public static AdaptOptions to(String spec) {
        return to(ChannelLayout.parse(spec));
    }

    public static AdaptOptions to(ChannelLayout layout) {
        Objects.requireNonNull(layout, "to");
        return defaults().change(f -> f.to = layout);
    }

    /** Options applying {@code map} as it is. */
    public static AdaptOptions of(ChannelMap map) {
        return defaults().map(map);
    }

    /** What the existing channels are ({@code BGR} for caffe-style models). */
    public AdaptOptions from(String spec) {
        return from(ChannelLayout.parse(spec));
    }

    public AdaptOptions from(ChannelLayout layout) {
        Objects.requireNonNull(layout, "from");
        return change(f -> f.from = layout);
    }

    /** Adds rules for new channels: {@code Y=B}, {@code Y=0.5*R+0.5*G}, or a preset such as {@code timm}. */
    public AdaptOptions init(String... rules) {
        return change(f -> f.inits.addAll(List.of(rules)));
    }

    /** Applies {@code channelMap} as it is, instead of building a map from {@code to}, {@code from} and rules. */
    public AdaptOptions map(ChannelMap channelMap) {
        Objects.requireNonNull(channelMap, "map");
        return change(f -> f.map = channelMap);
    }

    public AdaptOptions seed(long value) {
        return change(f -> f.seed = value);
    }

    /** The model input to adapt, when the model has several. */
    public AdaptOptions input(String name) {
        return change(f -> f.input = name);
    }

    /** Declares layers whose channel behaviour the model does not say (Lambda, custom) as treating every channel alike. */
    public AdaptOptions channelIndependent(String... layers) {
        return change(f -> f.channelIndependent.addAll(List.of(layers)));
    }

    /** A new channel's own statistics, for the first normalising layer, in that layer's input units. */
    public AdaptOptions stats(String channel, ChannelStats values) {
        return change(f -> f.stats.put(channel, values));
    }

    /** Removes saved optimizer state instead of adapting it. */
    public AdaptOptions dropOptimizer() {
        return change(f -> f.dropsOptimizer = true);
    }

    /** Lets the output replace an existing file. */
    public AdaptOptions overwrite() {
        return change(f -> f.overwrites = true);
    }

    /** Choices only some formats read; see {@link FormatOptions}. */
    public AdaptOptions formatOptions(FormatOptions choices) {
        return change(f -> f.formatOptions = choices);
    }

    /** The same options stating the original's outside normalisation ({@code --norm}; null: not given). */
    public AdaptOptions withNorm(NormSpec outside) {
        return change(f -> f.norm = outside);
    }

    /** The same options asking (or not) to put the outside preprocessing into the new model. */
    public AdaptOptions withBake(boolean bakePreprocessing) {
        return change(f -> f.bake = bakePreprocessing);
    }

    /** Where long steps are reported. */
    public AdaptOptions progress(ProgressListener listener) {
        return change(f -> f.progress = listener);
    }

    /** The same options naming the state-dict weights that read the input. */
    public AdaptOptions withTensors(List<String> names) {
        return formatOptions(formatOptions.withTensors(names));
    }

    /** The options' values, to change one and make new options of them. */
    private static final class Fields {
        ChannelLayout from;
        ChannelLayout to;
        final List<String> inits;
        ChannelMap map;
        long seed;
        String input;
        final Set<String> channelIndependent;
        final Map<String, ChannelStats> stats;
        boolean dropsOptimizer;
        boolean overwrites;
        FormatOptions formatOptions;
        NormSpec norm;
        boolean bake;
        ProgressListener progress;

        Fields(AdaptOptions o) {
            from = o.from;
            to = o.to;
            inits = new ArrayList<>(o.inits);
            map = o.map;
            seed = o.seed;
            input = o.input;
            channelIndependent = new LinkedHashSet<>(o.channelIndependent);
            stats = new LinkedHashMap<>(o.stats);
            dropsOptimizer = o.dropsOptimizer;
            overwrites = o.overwrites;
            formatOptions = o.formatOptions;
            norm = o.norm;
            bake = o.bake;
            progress = o.progress;
        }

        AdaptOptions build() {
            return new AdaptOptions(from, to, inits, map, seed, input, channelIndependent, stats, dropsOptimizer, overwrites,
                    formatOptions, norm, bake, progress);
        }
    }

    private AdaptOptions change(Consumer<Fields> edit) {
        Fields fields = new Fields(this);
        edit.accept(fields);
        return fields.build();
    }

    /**
     * Refuses a format-specific choice given for a model whose format has no use for it, rather than ignoring
     * it silently.
     *
     * @param accepted the choices the format reads
     */
    public void refuseUnused(String file, String format, Set<OptionName> accepted) {
        for (OptionName option : List.of(OptionName.LAYER, OptionName.CONFIG, OptionName.TENSORS)) {
            if (formatOptions.has(option) && !accepted.contains(option)) {
                throw RechannelException.usage(file + ": " + option + " does not apply to " + format + " files");
            }
        }
    }

    /** Options that analyse a model without changing it (inspect, verify). */
    public static AdaptOptions analysisOnly(String input, Set<String> channelIndependent, String layer, Path config) {
        return new AdaptOptions(null, null, List.of(), 0, input, channelIndependent, Map.of(), false, layer, config);
    }

    /** The same analysis choices without a channel map (the outside normalisation and baking kept). */
    public AdaptOptions analysisOnly() {
        return new AdaptOptions(null, null, List.of(), null, 0, input, channelIndependent, Map.of(), false, false,
                formatOptions, norm, bake, progress);
    }

    /** True when the options say what the map is (a map, or the channels wanted), rather than leaving it to be recovered. */
    public boolean hasMap() {
        return map != null || to != null;
    }

    /** The existing channels: {@code from}, the given map's, or the default for the count (RGB for 3). */
    public ChannelLayout fromLayout(int oldChannels) {
        return map != null ? map.from() : from != null ? from : ChannelLayout.defaultFor(oldChannels);
    }

    /** The map for a model whose adapted input has {@code oldChannels} channels. */
    public ChannelMap channelMap(int oldChannels, String source) {
        ChannelMap built = map != null ? givenMap(oldChannels, source) : buildMap(oldChannels, source);
        for (String name : stats.keySet()) {
            if (built.to().indexOf(name) < 0) {
                throw RechannelException.usage(OptionName.STATS + " " + name + ": not one of the new channels " + built.to());
            }
        }
        return built;
    }

    /** As {@link #channelMap}, refusing a map that would change nothing. */
    public ChannelMap changingMap(int oldChannels, String source) {
        return changing(channelMap(oldChannels, source), source);
    }

    /** {@code built}, refused when it would change nothing. */
    public static ChannelMap changing(ChannelMap built, String source) {
        if (built.isIdentity()) {
            throw RechannelException.usage(source + ": the channel map " + built.from() + " -> " + built.to()
                    + " keeps every channel as it is; nothing to do");
        }
        return built;
    }

    private ChannelMap givenMap(int oldChannels, String source) {
        if (to != null || from != null || !inits.isEmpty()) {
            throw RechannelException.usage(OptionName.MAP + " given together with " + (to != null ? OptionName.TO
                    : from != null ? OptionName.FROM : OptionName.INIT) + "; give either the map or what builds it");
        }
        if (map.oldCount() != oldChannels) {
            throw RechannelException.usage(source + ": " + OptionName.MAP + " maps " + map.oldCount()
                    + " channels but the model's input has " + oldChannels);
        }
        return map;
    }

    private ChannelMap buildMap(int oldChannels, String source) {
        ChannelLayout old = fromLayout(oldChannels);
        if (old.size() != oldChannels) {
            throw RechannelException.usage(source + ": " + OptionName.FROM + " " + old + " names " + old.size()
                    + " channels but the model's input has " + oldChannels);
        }
        if (to == null) {
            throw RechannelException.usage(OptionName.TO + " is required: the channels the new model takes");
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
                        + (oldChannels == 1 ? "" : "s") + " and " + OptionName.TO + " " + to + " names none of them;"
                        + " say what they are with " + OptionName.FROM + (oldChannels == 1 ? " (e.g. L)" : ""));
            }
        }
        return ChannelMap.build(old, target, inits, seed);
    }
}

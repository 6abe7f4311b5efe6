package io.rechannel.cli;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelStats;
import picocli.CommandLine.Model.CommandSpec;

import java.util.List;

/** Options that describe the channel map. */
record MapOptions(String to, String from, List<String> inits, List<String> stats, long seed) {

    /** Declares the options; {@code toRequired}: the command cannot run without {@code --to} (extend). */
    static void declare(CommandSpec spec, boolean toRequired) {
        spec.addOption(Specs.option("--to", "SPEC", String.class,
                "The new channels: letters (RGBY), a comma list (red,green,blue,yellow) or a count (4)."
                        + (toRequired ? "" : " Without --to, verify recovers the map from the weights."))
                .required(toRequired).build());
        spec.addOption(Specs.option("--from", "SPEC", String.class,
                "What the existing channels are (default RGB for 3 channels; required for caffe-style Keras models:"
                        + " BGR, or RGB to take them as they are).").build());
        spec.addOption(Specs.repeated("--init", "RULE",
                "How new channels start: Y=B, Y=0, Y=mean, Y=sum, Y=random, Y=0.5*R+0.5*G, or a preset"
                        + " for all new channels: copy-last, mean, sum, zeros, random, timm. Default: mean of the old"
                        + " channels; when none is kept, their sum divided by the new count.").build());
        spec.addOption(Specs.repeated("--stats", "NAME=mean:M,std:S",
                "A new channel's own statistics for the first normalisation layer, in that layer's input units; where the"
                        + " model has none, for the input contract's outside preprocessing (OUT.input.json).").build());
        spec.addOption(Specs.option("--seed", "N", long.class, "Seed for random initialisation (default 0).")
                .defaultValue("0").build());
    }

    /** The values parsed into {@code spec}. */
    static MapOptions of(CommandSpec spec) {
        return new MapOptions(Specs.value(spec, "--to"), Specs.value(spec, "--from"), Specs.values(spec, "--init"),
                Specs.values(spec, "--stats"), Specs.value(spec, "--seed"));
    }

    AdaptOptions toOptions(ModelOptions model, boolean dropOptimizer) {
        return new AdaptOptions(from == null ? null : ChannelLayout.parse(from), to == null ? null : ChannelLayout.parse(to),
                inits, seed, model.input(), model.channelIndependent(), ChannelStats.parse(stats), dropOptimizer, model.layer(),
                model.config()).withNorm(model.normSpec());
    }
}

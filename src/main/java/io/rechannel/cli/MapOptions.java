package io.rechannel.cli;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelStats;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** Options that describe the channel map. */
public final class MapOptions {

    @Option(names = "--to", paramLabel = "SPEC",
            description = "The new channels: letters (RGBY), a comma list (red,green,blue,yellow) or a count (4).")
    String to;

    @Option(names = "--from", paramLabel = "SPEC",
            description = "What the existing channels are (default RGB for 3 channels; required for caffe-style Keras models: BGR, or RGB to take them as they are).")
    String from;

    @Option(names = "--init", paramLabel = "RULE",
            description = "How new channels start: Y=B, Y=0, Y=mean, Y=sum, Y=random, Y=0.5*R+0.5*G, or a preset"
                    + " for all new channels: copy-last, mean, sum, zeros, random, timm. Default: mean of the old"
                    + " channels; when none is kept, their sum divided by the new count.")
    List<String> inits = new ArrayList<>();

    @Option(names = "--stats", paramLabel = "NAME=mean:M,std:S",
            description = "A new channel's own statistics for the first normalisation layer, in that layer's input units.")
    List<String> stats = new ArrayList<>();

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "Seed for random initialisation (default 0).")
    long seed;

    AdaptOptions toOptions(ModelOptions model, boolean dropOptimizer) {
        return new AdaptOptions(from == null ? null : ChannelLayout.parse(from), to == null ? null : ChannelLayout.parse(to),
                inits, seed, model.input, model.channelIndependent, ChannelStats.parse(stats), dropOptimizer, model.layer,
                model.config);
    }
}

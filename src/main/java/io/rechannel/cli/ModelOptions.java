package io.rechannel.cli;

import picocli.CommandLine.Option;

import java.util.LinkedHashSet;
import java.util.Set;

/** Options that choose what to analyse in a model; shared by every command. */
public final class ModelOptions {

    @Option(names = "--input", paramLabel = "NAME", description = "The model input to adapt when it has several.")
    String input;

    @Option(names = "--layer", paramLabel = "NAME",
            description = "For weights-only files (no model config): the layer that reads the input.")
    String layer;

    @Option(names = "--config", paramLabel = "FILE",
            description = "For weights files without a config (Keras 3 .weights.h5): the model's .keras archive or config.json.")
    java.nio.file.Path config;

    @Option(names = "--tensor", paramLabel = "NAME",
            description = "For state dicts (.safetensors, .pth): a weight that reads the input, e.g. conv1.weight;"
                    + " repeat for several. Default: the one weight named like an input layer (conv1, stem, patch_embed.proj, ...).")
    java.util.List<String> tensors = new java.util.ArrayList<>();

    @Option(names = "--channel-independent", paramLabel = "LAYER", split = ",",
            description = "Declare layers whose channel behaviour rechannel cannot read (Lambda, custom) as treating"
                    + " every channel alike, e.g. x/255 - 0.5.")
    Set<String> channelIndependent = new LinkedHashSet<>();

    @Option(names = "--json", description = "Print machine-readable JSON.")
    boolean json;

    @Option(names = "--debug", description = "Print stack traces on errors.")
    boolean debug;
}

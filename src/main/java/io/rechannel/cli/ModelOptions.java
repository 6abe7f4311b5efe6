package io.rechannel.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Path;
import java.util.Set;

/** Options that choose what to analyse in a model; shared by every command. */
final class ModelOptions {

    final String input;
    final String layer;
    final Path config;
    final Set<String> channelIndependent;
    final boolean json;
    final boolean debug;

    static void declare(CommandSpec spec) {
        spec.addOption(Specs.option("--input", "NAME", String.class, "The model input to adapt when it has several.").build());
        spec.addOption(Specs.option("--layer", "NAME", String.class,
                "For weights-only files (no model config): the layer that reads the input.").build());
        spec.addOption(Specs.option("--config", "FILE", Path.class,
                "For weights files without a config (Keras 3 .weights.h5): the model's .keras archive or config.json.").build());
        spec.addOption(OptionSpec.builder("--channel-independent").paramLabel("LAYER").splitRegex(",")
                .type(Set.class).auxiliaryTypes(String.class)
                .description("Declare layers whose channel behaviour rechannel cannot read (Lambda, custom) as treating"
                        + " every channel alike, e.g. x/255 - 0.5.").build());
        spec.addOption(Specs.flag("--json", "Print machine-readable JSON."));
        spec.addOption(Specs.flag("--debug", "Print stack traces on errors."));
    }

    /** The values parsed into {@code spec}. */
    ModelOptions(CommandSpec spec) {
        input = Specs.value(spec, "--input");
        layer = Specs.value(spec, "--layer");
        config = Specs.value(spec, "--config");
        channelIndependent = Specs.valueSet(spec, "--channel-independent");
        json = Specs.isSet(spec, "--json");
        debug = Specs.isSet(spec, "--debug");
    }
}

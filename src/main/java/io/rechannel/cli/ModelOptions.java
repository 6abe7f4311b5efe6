package io.rechannel.cli;

import io.rechannel.core.NormSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** Options that choose what to analyse in a model; shared by every command. */
record ModelOptions(String input, String layer, Path config, List<String> tensors, Set<String> channelIndependent, boolean json,
                    boolean debug, String norm) {

    static void declare(CommandSpec spec) {
        spec.addOption(Specs.option("--input", "NAME", String.class, "The model input to adapt when it has several.").build());
        spec.addOption(Specs.option("--layer", "NAME", String.class,
                "For weights-only files (no model config): the layer that reads the input.").build());
        spec.addOption(Specs.option("--config", "FILE", Path.class,
                "For weights files without a config (Keras 3 .weights.h5): the model's .keras archive or config.json.").build());
        spec.addOption(Specs.repeated("--tensor", "NAME",
                "For state dicts (.safetensors, .pth): a weight that reads the input, e.g. conv1.weight;"
                        + " repeat for several. Default: the one weight named like an input layer (conv1, stem, patch_embed.proj, ...).").build());
        spec.addOption(OptionSpec.builder("--channel-independent").paramLabel("LAYER").splitRegex(",")
                .type(Set.class).auxiliaryTypes(String.class)
                .description("Declare layers whose channel behaviour rechannel cannot read (Lambda, custom) as treating"
                        + " every channel alike, e.g. x/255 - 0.5.").build());
        spec.addOption(Specs.option("--norm", "NORM", String.class,
                "The normalisation the original model was trained with, outside it: imagenet, inception, clip, or"
                        + " MEAN/STD in the model's channel order (e.g. 0.485,0.456,0.406/0.229,0.224,0.225). The input"
                        + " contract extends it to the new channels.").build());
        spec.addOption(Specs.flag("--json", "Print machine-readable JSON."));
        spec.addOption(Specs.flag("--debug", "Print stack traces on errors."));
    }

    /** The values parsed into {@code spec}. */
    static ModelOptions of(CommandSpec spec) {
        return new ModelOptions(Specs.value(spec, "--input"), Specs.value(spec, "--layer"), Specs.value(spec, "--config"),
                Specs.values(spec, "--tensor"), Specs.valueSet(spec, "--channel-independent"), Specs.isSet(spec, "--json"),
                Specs.isSet(spec, "--debug"), Specs.value(spec, "--norm"));
    }

    /** {@code --norm} parsed, or null when not given. */
    NormSpec normSpec() {
        return norm == null ? null : NormSpec.parse(norm);
    }
}

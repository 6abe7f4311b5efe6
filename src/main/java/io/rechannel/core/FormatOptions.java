package io.rechannel.core;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Choices that only some formats read, for files that lack what rechannel otherwise finds in them. A format
 * refuses a choice it has no use for ({@link AdaptOptions#refuseUnused}) rather than ignoring it.
 *
 * @param layer   for weights files without a model config (Keras): the layer reading the input, or null
 * @param config  for Keras 3 weights files without a config: a file that has it (a .keras archive or its
 *                config.json), or null
 * @param tensors for state dicts (no graph): the weights reading the input; empty to find them by name
 */
public record FormatOptions(String layer, Path config, List<String> tensors) {

    /** No format-specific choice. */
    public static final FormatOptions NONE = new FormatOptions(null, null, List.of());

    public FormatOptions {
        tensors = tensors == null ? List.of() : List.copyOf(tensors);
    }

    /** The layer reading the input of a weights file without a config. */
    public static FormatOptions layer(String name) {
        return NONE.withLayer(name);
    }

    /** The file holding the model config of a weights file. */
    public static FormatOptions config(Path file) {
        return NONE.withConfig(file);
    }

    /** The state-dict weights that read the input. */
    public static FormatOptions tensors(String... names) {
        return NONE.withTensors(List.of(names));
    }

    public FormatOptions withLayer(String name) {
        return new FormatOptions(Objects.requireNonNull(name, "layer"), config, tensors);
    }

    public FormatOptions withConfig(Path file) {
        return new FormatOptions(layer, Objects.requireNonNull(file, "config"), tensors);
    }

    public FormatOptions withTensors(List<String> names) {
        return new FormatOptions(layer, config, names);
    }

    /** True when the choice is given. */
    public boolean has(OptionName option) {
        return switch (option) {
            case LAYER -> layer != null;
            case CONFIG -> config != null;
            case TENSORS -> !tensors.isEmpty();
            default -> throw new IllegalArgumentException(option + " is no format-specific choice");
        };
    }
}

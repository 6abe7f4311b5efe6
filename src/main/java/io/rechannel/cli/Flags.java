package io.rechannel.cli;

import io.rechannel.core.OptionName;

/**
 * The command line's names for the library's options: messages from the library name an option as
 * {@code option 'dropOptimizer'}, the command line shows its flag, {@code --drop-optimizer}.
 */
final class Flags {

    private Flags() {
    }

    /** The flag that sets {@code option}. */
    static String of(OptionName option) {
        return switch (option) {
            case TO -> "--to";
            case FROM -> "--from";
            case INIT, MAP -> "--init";
            case STATS -> "--stats";
            case SEED -> "--seed";
            case INPUT -> "--input";
            case CHANNEL_INDEPENDENT -> "--channel-independent";
            case DROP_OPTIMIZER -> "--drop-optimizer";
            case OVERWRITE -> "--force";
            case LAYER -> "--layer";
            case CONFIG -> "--config";
            case TENSORS -> "--tensor";
            case NORM -> "--norm";
            case BAKE -> "--bake-preprocessing";
        };
    }

    /** A library message as the command line says it: every option named by its flag. */
    static String render(String message) {
        if (message == null) {
            return null;
        }
        String rendered = message;
        for (OptionName option : OptionName.values()) {
            rendered = rendered.replace(option.toString(), of(option));
        }
        return rendered;
    }
}

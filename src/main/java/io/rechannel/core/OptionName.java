package io.rechannel.core;

/**
 * The options of an adaptation as messages name them. Library messages speak of the options by their
 * names in {@link AdaptOptions} and {@link FormatOptions} ({@code option 'dropOptimizer'}); the command line
 * renders each as its own flag ({@code --drop-optimizer}).
 */
public enum OptionName {
    TO("to"),
    FROM("from"),
    INIT("init"),
    MAP("map"),
    STATS("stats"),
    SEED("seed"),
    INPUT("input"),
    CHANNEL_INDEPENDENT("channelIndependent"),
    DROP_OPTIMIZER("dropOptimizer"),
    OVERWRITE("overwrite"),
    LAYER("layer"),
    CONFIG("config"),
    TENSORS("tensors"),
    NORM("norm"),
    BAKE("bake");

    private final String name;

    OptionName(String name) {
        this.name = name;
    }

    /** The option's name in the library: the method of {@link AdaptOptions} or {@link FormatOptions} that sets it. */
    public String optionName() {
        return name;
    }

    /** As messages write it: {@code option 'layer'}. */
    @Override
    public String toString() {
        return "option '" + name + "'";
    }
}

package io.rechannel.keras;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One layer of a Keras model config.
 *
 * @param scope     the names of the models enclosing it, each followed by '/', empty at top level
 * @param name      the layer's name
 * @param className its Keras class ({@code Conv2D}, {@code Functional}, ...)
 * @param entry     the layer's JSON object in the config (edited in place when the config changes)
 * @param sequentialIndex its position in a Sequential model, or -1 in a Functional one
 */
record KerasLayer(String scope, String name, String className, ObjectNode entry, int sequentialIndex) {

    /** The layer's own config object. */
    public ObjectNode config() {
        return entry.get("config") instanceof ObjectNode c ? c : entry.putObject("config");
    }

    public String path() {
        return scope + name;
    }

    public boolean isModel() {
        return config().has("layers") && config().get("layers").isArray();
    }
}

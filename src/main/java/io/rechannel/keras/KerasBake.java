package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.BakedCheck;
import io.rechannel.format.InputContract;
import io.rechannel.format.Verification;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.pipeline.AdaptationPlan;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code --bake-preprocessing} for Keras: one layer inserted between the input layer and everything that read it,
 * computing the contract's {@code (x - mean) / std} with its constants in the config (no weights):
 * {@code Normalization(axis, mean, variance = std²)}, or, where the model already holds a {@code Normalization}
 * at its top level and the file is a Keras 3 weights file, {@code Rescaling(scale = 1/std, offset = -mean/std)}.
 * Keras 3 names weight groups by class and position ({@code layers/normalization_1}), so a layer of a class the
 * model already has would renumber the others' groups; where both classes are there, baking is refused by name.
 */
final class KerasBake {

    /** The baked layer's name (with {@code _1}, {@code _2}, ... where the model already has one of that name). */
    static final String NAME = "rechannel_preprocessing";

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private KerasBake() {
    }

    /** The name of rechannel's baked layer in front of the adapted layers, or null. */
    static String bakedLayer(KerasModelView model, AdaptationPlan plan) {
        for (String id : plan.dependency().tensors().keySet()) {
            KerasLayer layer = model.graph().layer(id);
            if (layer != null && layer.name().startsWith(NAME)
                    && (layer.className().equals("Normalization") || layer.className().equals("Rescaling"))) {
                return layer.path();
            }
        }
        return null;
    }

    /**
     * Checks the layer baked into {@code adapted}, if any (and if the original had none of its own), against the
     * contract the original gives under {@code options}: a check for {@code checks}, or a note saying why not.
     */
    static void verify(KerasModelView original, AdaptationPlan before, KerasModelView adapted, AdaptationPlan after,
                       ChannelMap map, AdaptOptions options, String source, Verification verification) {
        String baked = bakedLayer(adapted, after);
        if (baked == null || bakedLayer(original, before) != null) {
            return;
        }
        if (options.to() == null) {
            verification.note(BakedCheck.unchecked(baked, null));
            return;
        }
        JsonNode config = adapted.graph().layer(baked).config();
        int n = map.newCount();
        double[] mean = new double[n];
        double[] std = new double[n];
        boolean normalization = adapted.graph().layer(baked).className().equals("Normalization");
        JsonNode first = config.path(normalization ? "mean" : "scale");
        JsonNode second = config.path(normalization ? "variance" : "offset");
        for (int c = 0; c < n; c++) {
            double a = first.path(c).asDouble(Double.NaN);
            double b = second.path(c).asDouble(Double.NaN);
            mean[c] = normalization ? a : -b / a;
            std[c] = normalization ? Math.sqrt(b) : 1 / a;
        }
        InputContract contract = KerasInputContract.of(original, before, before.dependency().input(), map.from(),
                options.norm(), source);
        boolean inside = !before.statisticTargets().isEmpty();
        InputContract expected = contract.extended(map, List.of(), inside ? null : options.stats());
        if (expected.mean() == null) {
            verification.note(BakedCheck.unchecked(baked, expected));
        } else {
            verification.check(BakedCheck.of(baked, mean, std, expected));
        }
    }

    /**
     * Inserts the layer into the (already adapted) config; returns its description for the contract's
     * {@code inside} list. {@code positionalGroups}: the weights are a Keras 3 weights file.
     */
    static String insert(KerasModelView model, AdaptationPlan plan, InputContract contract, boolean positionalGroups,
                         String source) {
        ObjectNode root = model.graph().root();
        String input = plan.dependency().input();
        KerasLayer inputLayer = model.graph().layer(input);
        if (inputLayer == null || !inputLayer.scope().isEmpty() || !inputLayer.className().equals("InputLayer")) {
            throw RechannelException.unsupported(source + ": input '" + input + "' is not declared by an InputLayer of the"
                    + " model itself (a Keras 1/2 Sequential model declares it in its first layer); " + OptionName.BAKE
                    + " needs one to put a layer after");
        }
        ArrayNode layers = (ArrayNode) root.path("config").path("layers");
        boolean sequential = "Sequential".equals(root.path("class_name").asText());
        Set<String> classes = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (JsonNode entry : layers) {
            classes.add(entry.path("class_name").asText());
        }
        model.graph().layers().forEach(l -> names.add(l.name()));
        boolean normalization = !positionalGroups || !classes.contains("Normalization");
        boolean channelsFirst = plan.dependency().axis() == ChannelAxis.FIRST;
        if (!normalization && (classes.contains("Rescaling") || channelsFirst)) {
            throw RechannelException.unsupported(source + ": model '" + root.path("config").path("name").asText()
                    + "' already has a Normalization " + (channelsFirst ? "layer and takes channels first"
                    : "and a Rescaling layer") + "; in a Keras 3 weights file layers are stored by class and position,"
                    + " so a baked layer of that class would renumber their weights: apply the contract's preprocessing"
                    + " outside the model, or bake a legacy .h5 save of it");
        }
        String name = NAME;
        for (int k = 1; names.contains(name); k++) {
            name = NAME + "_" + k;
        }
        ObjectNode entry = entry(inputLayer, contract, name, normalization, channelsFirst);
        int at = indexOf(layers, inputLayer.entry());
        if (!sequential) {
            boolean keras3 = inputLayer.entry().path("inbound_nodes").isArray() && entry.has("module");
            entry.set("inbound_nodes", call(input, inputLayer, keras3));
            for (JsonNode other : layers) {
                if (other != inputLayer.entry()) {
                    rewire(other.path("inbound_nodes"), input, name);
                }
            }
        }
        layers.insert(at + 1, entry);
        return name + " (" + entry.path("class_name").asText() + ") " + KerasInspector.preprocessingDetail(
                new KerasLayer("", name, entry.path("class_name").asText(), entry, -1)) + " [--bake-preprocessing]";
    }

    private static int indexOf(ArrayNode layers, JsonNode entry) {
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) == entry) {
                return i;
            }
        }
        throw new IllegalStateException("input layer not in the layer list");
    }

    /** The new layer's config entry, in the style of the input layer's (Keras 3 with {@code module}, or Keras 2). */
    private static ObjectNode entry(KerasLayer inputLayer, InputContract contract, String name, boolean normalization,
                                    boolean channelsFirst) {
        boolean keras3 = inputLayer.entry().has("module");
        ObjectNode entry = JSON.objectNode();
        if (keras3) {
            entry.put("module", "keras.layers");
        }
        entry.put("class_name", normalization ? "Normalization" : "Rescaling");
        ObjectNode config = entry.putObject("config");
        config.put("name", name);
        config.put("trainable", true);
        JsonNode dtype = inputLayer.config().path("dtype");
        String type = dtype.isTextual() ? dtype.asText() : "float32";
        if (keras3) {
            ObjectNode policy = config.putObject("dtype");
            policy.put("module", "keras").put("class_name", "DTypePolicy").putObject("config").put("name", type);
            policy.putNull("registered_name");
        } else {
            config.put("dtype", type);
        }
        List<Double> mean = contract.mean();
        List<Double> std = contract.std();
        if (normalization) {
            config.putArray("axis").add(channelsFirst ? 1 : -1);
            config.put("invert", false);
            ArrayNode m = config.putArray("mean");
            ArrayNode v = config.putArray("variance");
            for (int c = 0; c < mean.size(); c++) {
                m.add(mean.get(c));
                v.add(std.get(c) * std.get(c));
            }
        } else {
            ArrayNode scale = config.putArray("scale");
            ArrayNode offset = config.putArray("offset");
            for (int c = 0; c < mean.size(); c++) {
                scale.add(1 / std.get(c));
                offset.add(-mean.get(c) / std.get(c));
            }
        }
        if (keras3) {
            entry.putNull("registered_name");
            JsonNode shape = KerasModelGraph.shapeOf(inputLayer.config()) == null ? null
                    : inputLayer.config().has("batch_shape") ? inputLayer.config().get("batch_shape")
                    : inputLayer.config().get("batch_input_shape");
            if (shape != null) {
                entry.putObject("build_config").set("input_shape", shape.deepCopy());
            }
        }
        entry.put("name", name);
        return entry;
    }

    /** One call of the new layer on the input layer's output. */
    private static ArrayNode call(String input, KerasLayer inputLayer, boolean keras3) {
        ArrayNode calls = JSON.arrayNode();
        if (keras3) {
            ObjectNode tensor = JSON.objectNode().put("class_name", "__keras_tensor__");
            ObjectNode config = tensor.putObject("config");
            JsonNode shape = inputLayer.config().has("batch_shape") ? inputLayer.config().get("batch_shape")
                    : inputLayer.config().get("batch_input_shape");
            if (shape != null) {
                config.set("shape", shape.deepCopy());
            }
            JsonNode dtype = inputLayer.config().path("dtype");
            config.put("dtype", dtype.isTextual() ? dtype.asText() : "float32");
            config.putArray("keras_history").add(input).add(0).add(0);
            ObjectNode node = calls.addObject();
            node.putArray("args").add(tensor);
            node.putObject("kwargs");
        } else {
            calls.addArray().addArray().add(input).add(0).add(0).addObject();
        }
        return calls;
    }

    /** Points every reference to the input's output inside {@code node} (a layer's inbound nodes) at {@code name}. */
    private static void rewire(JsonNode node, String input, String name) {
        if (node.isObject()) {
            JsonNode history = node.path("config").path("keras_history");
            if ("__keras_tensor__".equals(node.path("class_name").asText()) && history.isArray()
                    && history.path(0).asText().equals(input)) {
                ((ArrayNode) history).set(0, name);
            }
            node.forEach(child -> rewire(child, input, name));
        } else if (node.isArray()) {
            if (node.size() >= 3 && node.get(0).isTextual() && node.get(0).asText().equals(input) && node.get(1).isNumber()) {
                ((ArrayNode) node).set(0, name); // Keras 1/2: [layer, node, tensor, kwargs]
                return;
            }
            node.forEach(child -> rewire(child, input, name));
        }
    }
}

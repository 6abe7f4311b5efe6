package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.hdf5.Hdf5File;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Variables of a Keras 3 weights file ({@code model.weights.h5} inside a {@code .keras} archive, or a
 * {@code .weights.h5} from {@code save_weights}). Groups are not keyed by layer name: each layer's
 * variables sit in {@code layers/<auto-name>/vars/<index>}, where the auto-name is the snake-case class
 * name with a counter ({@code conv2d}, {@code conv2d_1}, ...) assigned in the order of the model's
 * layers, and nested models have their own {@code layers/}. This store maps config layers to groups the
 * way Keras does, by that order, and checks the {@code name} attribute where the file has one.
 */
final class KerasV3Store extends Hdf5VariableStore {

    private static final String OPTIMIZER = "/optimizer/vars";

    private final String source;
    private final Map<String, String> groups = new LinkedHashMap<>();
    private final Map<String, KerasLayer> layersByPath = new HashMap<>();

    public KerasV3Store(Hdf5File file, KerasModelGraph model, String source) {
        super(file);
        this.source = source;
        model.layers().forEach(l -> layersByPath.put(l.path(), l));
        assign(model.root(), "", "/");
    }

    /** A store for a weights-only file: the given layers live in the given groups. */
    public KerasV3Store(Hdf5File file, Map<String, String> groupsByLayer, String source) {
        super(file);
        this.source = source;
        this.groups.putAll(groupsByLayer);
    }

    /** The HDF5 group holding a layer's variables (may not exist for layers without variables). */
    public String groupOf(KerasLayer layer) {
        return groups.get(layer.path());
    }

    private void assign(JsonNode modelEntry, String scope, String prefix) {
        JsonNode layers = modelEntry.path("config").path("layers");
        boolean sequential = "Sequential".equals(modelEntry.path("class_name").asText());
        Map<String, Integer> used = new HashMap<>();
        for (JsonNode entry : layers) {
            String cls = entry.path("class_name").asText();
            if (sequential && cls.equals("InputLayer")) {
                continue; // Sequential.layers leaves its input layer out
            }
            if (KerasLayerKinds.isOperation(entry)) {
                continue; // operations such as x + 3.0 appear in the config but are not layers and store nothing
            }
            String base = snakeCase(cls);
            Integer count = used.get(base);
            String auto = count == null ? base : base + "_" + (count + 1);
            used.put(base, count == null ? 0 : count + 1);
            String name = entry.path("name").asText(entry.path("config").path("name").asText());
            String group = prefix + "layers/" + auto;
            String layerPath = scope + name;
            groups.put(layerPath, group);
            String recorded = file.readString(group + "/vars", "name").orElse(null);
            if (recorded != null && !recorded.equals(name)) {
                throw RechannelException.malformed(source + ": weights group " + group + " belongs to layer '" + recorded
                        + "' but the config puts layer '" + name + "' there");
            }
            if (entry.path("config").path("layers").isArray()) {
                assign(entry, layerPath + "/", group + "/");
            }
        }
    }

    /** Keras's own rule: {@code Conv2D} → {@code conv2d}, {@code BatchNormalization} → {@code batch_normalization}. */
    static String snakeCase(String className) {
        String name = className.replaceAll("\\W+", "");
        name = name.replaceAll("(.)([A-Z][a-z]+)", "$1_$2");
        return name.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    @Override
    public List<KerasWeight> weightsOf(KerasLayer layer) {
        String group = groups.get(layer.path());
        if (group == null || !file.isGroup(group + "/vars")) {
            return List.of();
        }
        int count = 0;
        while (file.isDataset(group + "/vars/" + count)) {
            count++;
        }
        List<String> names = variableNames(layer, count);
        List<KerasWeight> weights = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String path = group + "/vars/" + i;
            weights.add(new KerasWeight(path, names.get(i), file.dataset(path).shape()));
        }
        return weights;
    }

    /** The variables a layer class creates, in creation order. */
    private static List<String> variableNames(KerasLayer layer, int count) {
        JsonNode config = layer.config();
        String cls = layer.className();
        List<String> names = new ArrayList<>();
        if (cls.startsWith("SeparableConv")) {
            names.addAll(List.of("depthwise_kernel", "pointwise_kernel", "bias"));
        } else if (cls.startsWith("Conv") || cls.startsWith("DepthwiseConv") || cls.equals("Dense")) {
            names.addAll(List.of("kernel", "bias"));
        } else if (cls.equals("BatchNormalization")) {
            if (config.path("scale").asBoolean(true)) {
                names.add("gamma");
            }
            if (config.path("center").asBoolean(true)) {
                names.add("beta");
            }
            names.addAll(List.of("moving_mean", "moving_variance"));
        } else if (cls.equals("Normalization")) {
            names.addAll(List.of("mean", "variance", "count"));
        }
        while (names.size() < count) {
            names.add("var" + names.size());
        }
        return names.subList(0, count);
    }

    @Override
    public List<KerasWeight> optimizerSlots(KerasWeight weight) {
        if (!file.isGroup(OPTIMIZER)) {
            return List.of();
        }
        // Optimizer variables are numbered, not named. A slot has its variable's shape; when no other
        // trainable variable has that shape (true of a first layer's kernel, whose input-channel count
        // is rare), every optimizer variable of that shape is one of its slots.
        int sameShape = 0;
        for (String path : trainableVariables()) {
            sameShape += Arrays.equals(file.dataset(path).shape(), weight.shape()) ? 1 : 0;
        }
        List<KerasWeight> slots = new ArrayList<>();
        for (int i = 0; file.isDataset(OPTIMIZER + "/" + i); i++) {
            String path = OPTIMIZER + "/" + i;
            if (Arrays.equals(file.dataset(path).shape(), weight.shape())) {
                slots.add(new KerasWeight(path, String.valueOf(i), weight.shape()));
            }
        }
        if (sameShape > 1 && !slots.isEmpty()) {
            throw RechannelException.unsupported(source + ": " + sameShape + " variables share the shape "
                    + Arrays.toString(weight.shape()) + " of " + weight.path() + ", so its optimizer slots cannot be told"
                    + " apart; " + OptionName.DROP_OPTIMIZER + " removes the optimizer state instead");
        }
        return slots;
    }

    private List<String> trainableVariables() {
        if (layersByPath.isEmpty()) {
            // weights-only: without a config every stored variable counts
            return file.datasets("/layers");
        }
        List<String> paths = new ArrayList<>();
        for (Map.Entry<String, String> entry : groups.entrySet()) {
            KerasLayer layer = layersByPath.get(entry.getKey());
            if (layer == null || layer.className().equals("Normalization")) {
                continue;
            }
            for (KerasWeight weight : weightsOf(layer)) {
                if (!weight.name().startsWith("moving_")) {
                    paths.add(weight.path());
                }
            }
        }
        return paths;
    }

    @Override
    public String optimizerGroup() {
        return "/optimizer";
    }

    @Override
    public String root() {
        return "/layers";
    }

}

package io.rechannel.keras;

import io.rechannel.core.RechannelException;
import io.rechannel.hdf5.Hdf5File;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Variables of a legacy Keras HDF5 file ({@code model.save('x.h5')} or {@code save_weights}): one group
 * per top-level layer under {@code /model_weights} (or the root for weights-only files), listing its
 * variables in a {@code weight_names} attribute; a nested model's variables all sit in its group.
 * Optimizer state lives under {@code /optimizer_weights}.
 */
final class LegacyH5Store extends Hdf5VariableStore {

    private static final String OPTIMIZER = "/optimizer_weights";

    private final String root;

    public LegacyH5Store(Hdf5File file) {
        super(file);
        this.root = file.isGroup("/model_weights") ? "/model_weights" : "";
    }

    /** The group holding the layer groups: {@code /model_weights}, or the root for weights-only files. */
    @Override
    public String root() {
        return root.isEmpty() ? "/" : root;
    }

    /** Layer names in saved order (Keras splits long lists into layer_names0, layer_names1, ...). */
    public List<String> layerNames() {
        return chunkedStrings(root(), "layer_names");
    }

    @Override
    public List<KerasWeight> weightsOf(KerasLayer layer) {
        String top = layer.scope().isEmpty() ? layer.name() : layer.scope().substring(0, layer.scope().indexOf('/'));
        String group = root + "/" + top;
        if (!file.isGroup(group)) {
            return List.of();
        }
        List<KerasWeight> weights = new ArrayList<>();
        for (String weightName : chunkedStrings(group, "weight_names")) {
            if (!layer.scope().isEmpty() && !namesLayer(weightName, layer.name())) {
                continue;
            }
            String path = group + "/" + weightName;
            if (!file.isDataset(path)) {
                throw RechannelException.malformed(file.path() + ": layer '" + layer.path() + "' lists weight '"
                        + weightName + "' but " + path + " does not exist");
            }
            weights.add(new KerasWeight(path, KerasWeight.variableName(weightName), file.dataset(path).shape()));
        }
        return weights;
    }

    /** True when a weight name of a nested model's group belongs to the named inner layer. */
    private static boolean namesLayer(String weightName, String layerName) {
        String[] parts = weightName.split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            if (parts[i].equals(layerName)) {
                return true;
            }
        }
        return parts.length == 1 && parts[0].startsWith(layerName + "_");
    }

    @Override
    public List<KerasWeight> optimizerSlots(KerasWeight weight) {
        if (!file.isGroup(OPTIMIZER)) {
            return List.of();
        }
        String variablePath = weight.path().substring(root.length() + 1);
        variablePath = variablePath.substring(variablePath.indexOf('/') + 1).replaceAll(":\\d+$", "");
        String flat = variablePath.replace('/', '_') + "_";
        List<KerasWeight> slots = new ArrayList<>();
        for (String name : chunkedStrings(OPTIMIZER, "weight_names")) {
            String bare = name.replaceAll(":\\d+$", "");
            String last = bare.substring(bare.lastIndexOf('/') + 1);
            // Keras 3: <optimizer>/<variable path with _>_<slot>; tf.keras 2: [prefix/]<variable path>/<slot>:0
            boolean keras3 = last.startsWith(flat);
            boolean keras2 = bare.startsWith(variablePath + "/") || bare.contains("/" + variablePath + "/");
            if (keras3 || keras2) {
                String path = OPTIMIZER + "/" + name;
                if (file.isDataset(path) && Arrays.equals(file.dataset(path).shape(), weight.shape())) {
                    slots.add(new KerasWeight(path, last, weight.shape()));
                }
            }
        }
        return slots.isEmpty() ? positionalSlots(weight) : slots;
    }

    /**
     * Keras 1 and 2.0–2.2 name optimizer slots Variable_N or param_N; they follow the trainable
     * variables in order, one group per kind of state (momenta, then velocities, ...). A group is taken
     * only when every shape in it matches the trainable variables' shapes, position by position.
     */
    private List<KerasWeight> positionalSlots(KerasWeight weight) {
        List<String> trainable = new ArrayList<>();
        List<long[]> shapes = new ArrayList<>();
        for (String layer : layerNames()) {
            String group = root + "/" + layer;
            if (!file.isGroup(group)) {
                continue;
            }
            for (String name : chunkedStrings(group, "weight_names")) {
                String variable = KerasWeight.variableName(name);
                if (!variable.equals("moving_mean") && !variable.equals("moving_variance")) {
                    trainable.add(group + "/" + name);
                    shapes.add(file.dataset(group + "/" + name).shape());
                }
            }
        }
        int index = trainable.indexOf(weight.path());
        List<String> anonymous = new ArrayList<>();
        for (String name : chunkedStrings(OPTIMIZER, "weight_names")) {
            String last = name.substring(name.lastIndexOf('/') + 1);
            String path = OPTIMIZER + "/" + name;
            if (last.matches("(Variable(_\\d+)?|param_\\d+)(:\\d+)?") && file.isDataset(path)
                    && file.dataset(path).shape().length > 0) {
                anonymous.add(path);
            }
        }
        List<KerasWeight> slots = new ArrayList<>();
        if (index < 0 || trainable.isEmpty()) {
            return slots;
        }
        for (int start = 0; start + trainable.size() <= anonymous.size(); start += trainable.size()) {
            for (int t = 0; t < trainable.size(); t++) {
                if (!Arrays.equals(file.dataset(anonymous.get(start + t)).shape(), shapes.get(t))) {
                    return slots;
                }
            }
            String path = anonymous.get(start + index);
            slots.add(new KerasWeight(path, path.substring(path.lastIndexOf('/') + 1), weight.shape()));
        }
        return slots;
    }

    /**
     * Optimizer variables that name no model variable (Keras 1 and 2.0–2.2 call them Variable_N or
     * param_N) and have the shape of {@code weight}: their owner cannot be told from the file.
     */
    public List<String> anonymousOptimizerSlots(KerasWeight weight) {
        if (!file.isGroup(OPTIMIZER)) {
            return List.of();
        }
        List<String> anonymous = new ArrayList<>();
        for (String name : chunkedStrings(OPTIMIZER, "weight_names")) {
            String last = name.substring(name.lastIndexOf('/') + 1);
            if (last.matches("(Variable(_\\d+)?|param_\\d+)(:\\d+)?")) {
                String path = OPTIMIZER + "/" + name;
                if (file.isDataset(path) && Arrays.equals(file.dataset(path).shape(), weight.shape())) {
                    anonymous.add(path);
                }
            }
        }
        return anonymous;
    }

    @Override
    public String optimizerGroup() {
        return OPTIMIZER;
    }

    /** Reads a string-list attribute that Keras may have split into name0, name1, ... when long. */
    List<String> chunkedStrings(String object, String name) {
        Optional<List<String>> whole = file.readStrings(object, name);
        if (whole.isPresent()) {
            return whole.get();
        }
        List<String> all = new ArrayList<>();
        for (int k = 0; ; k++) {
            Optional<List<String>> chunk = file.readStrings(object, name + k);
            if (chunk.isEmpty()) {
                return all;
            }
            all.addAll(chunk.get());
        }
    }
}

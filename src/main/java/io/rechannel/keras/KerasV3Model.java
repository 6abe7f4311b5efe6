package io.rechannel.keras;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.RechannelException;
import io.rechannel.hdf5.Hdf5File;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A Keras 3 model: the config of a {@code .keras} archive (or one given with {@code --config}) with
 * the variables of a Keras 3 weights file.
 */
public final class KerasV3Model implements KerasModelView {

    private final Hdf5File file;
    private final KerasModelGraph graph;
    private final KerasV3Store store;
    private final boolean hasConfig;
    private final String version;
    private final boolean configFromElsewhere;

    private KerasV3Model(Hdf5File file, KerasModelGraph graph, KerasV3Store store, boolean hasConfig, String version,
                         boolean configFromElsewhere) {
        this.file = file;
        this.graph = graph;
        this.store = store;
        this.hasConfig = hasConfig;
        this.version = version;
        this.configFromElsewhere = configFromElsewhere;
    }

    @Override
    public boolean configFromElsewhere() {
        return configFromElsewhere;
    }

    /** True when an HDF5 file has the Keras 3 weights layout (layers/…/vars). */
    public static boolean isV3Weights(Hdf5File file) {
        return file.isGroup("/layers") && !file.hasAttribute("/", "layer_names") && !file.hasAttribute("/", "model_config");
    }

    /** A model whose config is known. */
    public static KerasV3Model withConfig(Hdf5File weights, String configJson, String version, String source) {
        return withConfig(weights, KerasJson.parseObject(configJson, source + ": config.json"), version, source);
    }

    /** A model whose config is known, already parsed. */
    public static KerasV3Model withConfig(Hdf5File weights, ObjectNode root, String version, String source) {
        KerasModelGraph graph = KerasModelGraph.of(root, source);
        return new KerasV3Model(weights, graph, new KerasV3Store(weights, graph, source), true, version, false);
    }

    /**
     * A standalone {@code .weights.h5}: the config comes from {@code config} (a .keras archive or a
     * config.json), or, failing that, {@code layer} names the group of the layer reading the input.
     */
    public static KerasV3Model weightsOnly(Hdf5File weights, Path config, String layer, String source) {
        if (config != null) {
            ObjectNode root = readConfig(config);
            KerasModelGraph graph = KerasModelGraph.of(root, source);
            return new KerasV3Model(weights, graph, new KerasV3Store(weights, graph, source), true, "", true);
        }
        if (layer == null) {
            throw RechannelException.usage(source + ": a Keras 3 weights file has no model config; give it with --config"
                    + " MODEL.keras (or its config.json), or name the group of the layer reading the input with --layer"
                    + " (groups with a kernel: " + kernelGroups(weights) + ")");
        }
        String group = "/" + layer.replaceAll("^/+", "").replaceAll("/vars/?$", "");
        if (!weights.isDataset(group + "/vars/0")) {
            throw RechannelException.usage(source + ": --layer " + layer + ": no variables at " + group + "/vars");
        }
        String name = weights.readString(group + "/vars", "name").orElse(group.substring(group.lastIndexOf('/') + 1));
        long[] shape = weights.dataset(group + "/vars/0").shape();
        if (shape.length < 2 || shape.length > 5 || java.util.Arrays.stream(shape).anyMatch(d -> d < 1)) {
            throw RechannelException.usage(source + ": --layer " + layer + ": its first variable has the shape "
                    + java.util.Arrays.toString(shape) + ", not a kernel (groups with a kernel: " + kernelGroups(weights) + ")");
        }
        int rank = shape.length;
        KerasModelGraph graph = KerasModelGraph.singleLayer(name, rank, source);
        return new KerasV3Model(weights, graph, new KerasV3Store(weights, Map.of(name, group), source), false, "", false);
    }

    /** The first few groups holding a kernel-like variable 0, with its shape, to help choose --layer. */
    private static String kernelGroups(Hdf5File weights) {
        java.util.List<String> found = new java.util.ArrayList<>();
        for (String path : weights.datasets("/layers")) {
            if (path.endsWith("/vars/0") && weights.dataset(path).shape().length >= 2) {
                found.add(path.substring(1, path.length() - "/vars/0".length()) + " "
                        + java.util.Arrays.toString(weights.dataset(path).shape()));
                if (found.size() == 4) {
                    found.add("...");
                    break;
                }
            }
        }
        return String.join(", ", found);
    }

    private static ObjectNode readConfig(Path config) {
        if (!Files.isRegularFile(config)) {
            throw new RechannelException(RechannelException.Kind.IO, config + ": no such file (--config)");
        }
        if (config.getFileName().toString().endsWith(".keras")) {
            try (KerasArchive archive = KerasArchive.open(config)) {
                return archive.readJson(KerasArchive.CONFIG);
            }
        }
        try (InputStream in = Files.newInputStream(config)) {
            if (Files.size(config) > KerasArchive.MAX_JSON_BYTES) {
                throw RechannelException.unsupported(config + ": " + Files.size(config) + " bytes, over rechannel's limit of "
                        + (KerasArchive.MAX_JSON_BYTES >> 20) + " MiB for a config (--config)");
            }
            return KerasJson.parseObject(in, config + " (--config)");
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, config + ": " + e.getMessage(), e);
        }
    }

    @Override
    public KerasModelGraph graph() {
        return graph;
    }

    @Override
    public KerasV3Store store() {
        return store;
    }

    @Override
    public Hdf5File file() {
        return file;
    }

    @Override
    public boolean hasConfig() {
        return hasConfig;
    }

    @Override
    public String kerasVersion() {
        return version;
    }

    @Override
    public String backend() {
        return "";
    }
}

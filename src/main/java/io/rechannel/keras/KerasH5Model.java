package io.rechannel.keras;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.RechannelException;
import io.rechannel.hdf5.Hdf5File;

import java.util.List;
import java.util.Optional;

/**
 * A legacy Keras HDF5 file opened for analysis: its config graph (or, for a weights-only file, a
 * one-layer stand-in built from the saved layer order) and its variable store.
 */
public final class KerasH5Model implements KerasModelView {

    private final Hdf5File file;
    private final LegacyH5Store store;
    private final KerasModelGraph graph;
    private final boolean hasConfig;
    private final String kerasVersion;
    private final String backend;

    private KerasH5Model(Hdf5File file, LegacyH5Store store, KerasModelGraph graph, boolean hasConfig,
                         String kerasVersion, String backend) {
        this.file = file;
        this.store = store;
        this.graph = graph;
        this.hasConfig = hasConfig;
        this.kerasVersion = kerasVersion;
        this.backend = backend;
    }

    /** True when the file records its model config (a full model, not {@code save_weights}). */
    static boolean hasConfig(Hdf5File file) {
        return file.hasAttribute("/", "model_config");
    }

    /** Reads the model; {@code layer} names the input layer of a weights-only file (null: the first with a kernel). */
    public static KerasH5Model read(Hdf5File file, String source, String layer) {
        Optional<String> config = file.readString("/", "model_config");
        String version = file.readString("/", "keras_version")
                .or(() -> file.readString("/model_weights", "keras_version")).orElse("");
        String backend = file.readString("/", "backend")
                .or(() -> file.readString("/model_weights", "backend")).orElse("");
        LegacyH5Store store = new LegacyH5Store(file);
        if (config.isPresent()) {
            if (!file.isGroup("/model_weights")) {
                throw RechannelException.malformed(source + ": has a model_config but no model_weights group");
            }
            ObjectNode root = KerasJson.parseObject(config.get(), source + ": model_config");
            return new KerasH5Model(file, store, KerasModelGraph.of(root, source), true, version, backend);
        }
        if (file.hasAttribute("/", "layer_names") || file.hasAttribute("/", "layer_names0")) {
            return new KerasH5Model(file, store, weightsOnlyGraph(store, source, layer, version), false, version, backend);
        }
        throw RechannelException.malformed(source + ": an HDF5 file but not a Keras model (no model_config or layer_names)");
    }

    /** A weights-only file has no config: stand in a one-layer model for the layer that reads the input. */
    private static KerasModelGraph weightsOnlyGraph(LegacyH5Store store, String source, String wanted, String version) {
        List<String> names = store.layerNames();
        for (String name : names) {
            if (wanted != null && !wanted.equals(name)) {
                continue;
            }
            ObjectNode entry = JsonNodeFactory.instance.objectNode();
            entry.putObject("config").put("name", name);
            KerasLayer probe = new KerasLayer("", name, "", entry, 0);
            Optional<KerasWeight> kernel = store.weightsOf(probe).stream().filter(w -> w.name().equals("kernel")).findFirst();
            if (kernel.isEmpty()) {
                if (wanted != null) {
                    throw RechannelException.usage(source + ": layer '" + wanted + "' has no kernel");
                }
                continue;
            }
            int rank = checkedKernelRank(kernel.get().shape(), kernel.get().path(), name, source);
            if (rank >= 3 && (version.isEmpty() || version.startsWith("1."))) {
                throw RechannelException.unsupported(source + ": a Keras 1 weights-only file; its kernel layout"
                        + " (Theano or TensorFlow ordering) cannot be told without the model config");
            }
            return KerasModelGraph.singleLayer(name, rank, source);
        }
        throw RechannelException.usage(source + ": " + (wanted == null ? "no layer with a kernel in this weights-only file"
                : "no layer named '" + wanted + "' (layers: " + names + ")"));
    }

    /**
     * The rank of the kernel a stand-in layer is made for (Dense: 2, Conv1D–Conv3D: 3–5); any other shape
     * is damage, named by its dataset.
     */
    static int checkedKernelRank(long[] shape, String path, String layer, String source) {
        if (shape.length < 2 || shape.length > 5 || java.util.Arrays.stream(shape).anyMatch(d -> d < 1)) {
            throw RechannelException.malformed(source + ": dataset " + path + " (the kernel of layer '" + layer
                    + "') has the shape " + java.util.Arrays.toString(shape) + "; a kernel has 2 to 5 non-empty dimensions");
        }
        return shape.length;
    }

    @Override
    public Hdf5File file() {
        return file;
    }

    @Override
    public LegacyH5Store store() {
        return store;
    }

    @Override
    public KerasModelGraph graph() {
        return graph;
    }

    /** False for weights-only files ({@code save_weights}), whose input layer was taken from the saved layer order. */
    @Override
    public boolean hasConfig() {
        return hasConfig;
    }

    @Override
    public String kerasVersion() {
        return kerasVersion;
    }

    @Override
    public String backend() {
        return backend;
    }
}

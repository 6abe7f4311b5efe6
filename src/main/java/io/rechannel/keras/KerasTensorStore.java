package io.rechannel.keras;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.Blocks;
import io.rechannel.core.ElementType;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AtomicOutput;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorEdit;
import io.rechannel.format.TensorStore;
import io.rechannel.hdf5.DatasetBlocks;
import io.rechannel.hdf5.Hdf5File;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlannedTensor;
import io.rechannel.pipeline.Planner;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A Keras model as named tensors: a legacy HDF5 file ({@code model.save('x.h5')}, {@code save_weights}) or
 * a {@code .keras} archive. Tensors are named {@code layer/variable} ({@code block1_conv1/kernel}; nested
 * models' layers by their path, {@code vgg19/block1_conv1/kernel}), in the order of the model's layers, so
 * that both kinds of file name the same model's tensors alike. Written as a copy whose datasets take new
 * values of their own shapes: a legacy file is copied and edited in place; an archive's weights are
 * edited in a scratch copy and the archive rewritten around them, every other entry copied raw.
 */
public final class KerasTensorStore implements TensorStore {

    private static final AdaptOptions NO_OPTIONS = AdaptOptions.analysisOnly(null, Set.of(), null, null);

    private final Path file;
    private final KerasModelView model;
    private final AutoCloseable resources;
    private final boolean archive;
    private final Map<String, KerasWeight> weights = new LinkedHashMap<>();
    private final List<NamedTensor> tensors = new ArrayList<>();

    private KerasTensorStore(Path file, KerasModelView model, AutoCloseable resources, boolean archive) {
        this.file = file;
        this.model = model;
        this.resources = resources;
        this.archive = archive;
        try {
            list();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** A legacy HDF5 model or weights file; a Keras 3 {@code .weights.h5} (variables keyed by position only) is refused. */
    static KerasTensorStore openH5(Path file) {
        Hdf5File h5 = Hdf5File.open(file, false);
        try {
            if (KerasV3Model.isV3Weights(h5)) {
                throw RechannelException.unsupported(file + ": a Keras 3 weights file stores variables by position, without"
                        + " the model's layers; use the .keras archive it belongs to");
            }
            return new KerasTensorStore(file, KerasH5Model.read(h5, file.toString(), null), h5, false);
        } catch (RuntimeException e) {
            h5.close();
            throw e;
        }
    }

    /** A {@code .keras} archive; its weights are read from a scratch copy in the temporary folder. */
    static KerasTensorStore openArchive(Path file) {
        KerasArchiveFormat.Opened opened = new KerasArchiveFormat.Opened(file,
                Path.of(System.getProperty("java.io.tmpdir")), false, NO_OPTIONS);
        return new KerasTensorStore(file, opened.model, opened, true);
    }

    private void list() {
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (KerasLayer layer : layers()) {
            for (KerasWeight weight : model.store().weightsOf(layer)) {
                String base = layer.path() + "/" + weight.name();
                int n = seen.merge(base, 1, Integer::sum);
                String name = n == 1 ? base : base + "#" + n;
                weights.put(name, weight);
                ElementType type = DatasetBlocks.elementType(model.file(), weight.path());
                tensors.add(NamedTensor.of(name, KerasAdaptableModel.dtype(type), weight.shape(),
                        KerasRoles.of(model, layer, weight)));
            }
        }
    }

    /** The layers holding variables, in the model's order; a nested model's variables are its layers'. */
    private List<KerasLayer> layers() {
        if (model.hasConfig()) {
            return model.graph().layers().stream().filter(l -> !l.isModel()).toList();
        }
        // a weights-only legacy file: every saved layer, by name, of unknown class
        List<KerasLayer> layers = new ArrayList<>();
        for (String name : ((LegacyH5Store) model.store()).layerNames()) {
            com.fasterxml.jackson.databind.node.ObjectNode entry =
                    com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            entry.putObject("config").put("name", name);
            layers.add(new KerasLayer("", name, "", entry, -1));
        }
        return layers;
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public List<NamedTensor> tensors() {
        return List.copyOf(tensors);
    }

    @Override
    public double[] read(NamedTensor tensor) {
        return model.store().read(weight(tensor));
    }

    private KerasWeight weight(NamedTensor tensor) {
        KerasWeight weight = weights.get(tensor.name());
        if (weight == null) {
            throw new IllegalArgumentException("not a tensor of " + file + ": " + tensor);
        }
        return weight;
    }

    /** Blocks of a variable, straight from its dataset. */
    @Override
    public Blocks.Reader reader(NamedTensor tensor) {
        String path = weight(tensor).path();
        return (slab, into) -> DatasetBlocks.read(model.file(), path, slab, into);
    }

    @Override
    public Map<String, String> details() {
        return Map.of("layout", archive ? "Keras 3 .keras archive" : "Keras legacy HDF5 " + (model.hasConfig() ? "model" : "weights"));
    }

    /** The input read by the model's layers, and the variables depending on its channels, as {@code extend} finds them. */
    @Override
    public Optional<ModelInput> input() {
        AdaptationPlan plan;
        try {
            plan = Planner.plan(new KerasAdaptableModel(model, file.toString()), NO_OPTIONS.dropOptimizer());
        } catch (RechannelException e) {
            return Optional.empty(); // several inputs, or a layer whose channel behaviour is unknown
        }
        return Optional.of(new ModelInput(plan.channels(), names(plan.kernels()), names(plan.constants()),
                CaffeStyle.modelName(model, plan)));
    }

    /** The names this store gives the planned tensors (the plan names them by dataset path). */
    private List<String> names(List<PlannedTensor> planned) {
        List<String> names = new ArrayList<>();
        for (PlannedTensor p : planned) {
            weights.forEach((name, weight) -> {
                if (weight.path().equals(p.name())) {
                    names.add(name);
                }
            });
        }
        return names;
    }

    @Override
    public boolean hasOptimizer() {
        return model.store().hasOptimizer();
    }

    @Override
    public List<String> write(Path output, List<TensorEdit> edits, boolean dropOptimizer, boolean overwrite) {
        for (TensorEdit edit : edits) {
            if (!edit.keepsShape()) {
                throw new IllegalArgumentException(file + ": Keras tensors are written with their own shapes: " + edit.tensor());
            }
            weight(edit.tensor());
        }
        try (AtomicOutput out = AtomicOutput.create(file, output, overwrite)) {
            List<String> notes = archive ? writeArchive(out.path(), output, edits, dropOptimizer)
                    : writeH5(out, output, edits, dropOptimizer);
            out.commit();
            return notes;
        }
    }

    private List<String> writeH5(AtomicOutput out, Path output, List<TensorEdit> edits, boolean dropOptimizer) {
        out.copyFrom(file);
        try (Hdf5File copy = Hdf5File.open(out.path(), true, output.toString())) {
            apply(copy, edits);
            if (dropOptimizer && copy.isGroup("/optimizer_weights")) {
                copy.delete("/optimizer_weights");
            }
            copy.flush();
        }
        return List.of();
    }

    private List<String> writeArchive(Path work, Path output, List<TensorEdit> edits, boolean dropOptimizer) {
        try (KerasArchiveFormat.Opened opened = new KerasArchiveFormat.Opened(file, work.getParent(), true, NO_OPTIONS)) {
            apply(opened.h5, edits);
            if (dropOptimizer && opened.h5.isGroup("/optimizer")) {
                opened.h5.delete("/optimizer");
            }
            opened.finishWeights();
            return opened.archive.writeCopy(work, output, Map.of(KerasArchive.WEIGHTS, opened.weights));
        }
    }

    /** Writes each edit's values into its dataset, block by block. */
    private void apply(Hdf5File target, List<TensorEdit> edits) {
        for (TensorEdit edit : edits) {
            String path = weight(edit.tensor()).path();
            edit.values().writeTo((slab, values) -> DatasetBlocks.write(target, path, slab, values));
        }
    }

    @Override
    public void close() {
        try {
            resources.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import io.rechannel.core.Blocks;
import io.rechannel.core.ElementType;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Statistic;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorRole;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Consumer;
import io.rechannel.graph.ModelGraph;
import io.rechannel.graph.NodeRole;
import io.rechannel.pipeline.AdaptableModel;
import io.rechannel.pipeline.LayerTensor;
import io.rechannel.pipeline.RecordedList;
import io.rechannel.pipeline.StoredTensors;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Keras model as the adaptation pipeline reads it: the config's graph, each layer's variables with the layout
 * its class gives them, and the per-channel lists layer configs record. Tensors are named by their dataset path,
 * which stays the same in an adapted copy.
 */
final class KerasAdaptableModel implements AdaptableModel {

    private static final Set<String> CONSTANT_VARIABLES = Set.of(
            "mean", "variance", "gamma", "beta", "moving_mean", "moving_variance");

    /** Layers that normalise their input: the first of them takes the user's statistics for new channels. */
    private static final Set<String> NORMALISING = Set.of("Normalization", "BatchNormalization");

    private static final List<String> CONFIG_LISTS = List.of("scale", "offset", "mean", "variance");

    private final KerasModelView view;
    private final String source;
    /** Every variable handed out, by dataset path, with the layer it belongs to. */
    private final Map<String, KerasWeight> weights = new HashMap<>();
    private final Map<String, KerasLayer> owners = new HashMap<>();
    private KerasStoredTensors stored;

    KerasAdaptableModel(KerasModelView view, String source) {
        this.view = view;
        this.source = source;
    }

    KerasModelView view() {
        return view;
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public ModelGraph graph() {
        return view.graph().graph();
    }

    @Override
    public boolean trustsDeclaredShape() {
        return !view.configFromElsewhere();
    }

    /** Keras models have always been given timm's map mixed exactly; their results stay as they were. */
    @Override
    public boolean timmInFloat32() {
        return false;
    }

    @Override
    public List<LayerTensor> tensorsOf(Consumer consumer) {
        KerasLayer layer = view.graph().layer(consumer.node().id());
        if (layer == null) {
            return List.of();
        }
        List<KerasWeight> variables = view.store().weightsOf(layer);
        List<LayerTensor> tensors = new ArrayList<>();
        if (consumer.node().role() != NodeRole.MIXES_CHANNELS) {
            boolean normalises = NORMALISING.contains(layer.className());
            for (KerasWeight weight : variables) {
                if (CONSTANT_VARIABLES.contains(weight.name())) {
                    tensors.add(LayerTensor.constant(tensor(layer, weight, KerasRoles.of(view, layer, weight)),
                            weight.name(), weight.name(), normalises ? statistic(weight.name()) : null, false));
                }
            }
            return tensors;
        }
        String cls = layer.className();
        if (cls.equals("Dense") && !consumer.segment().flattened() && consumer.segment().axis() == ChannelAxis.FIRST) {
            throw RechannelException.unsupported(source + ": layer '" + layer.path()
                    + "' (Dense) acts on the last axis but the input's channels come first");
        }
        for (KerasWeight weight : variables) {
            switch (weight.name()) {
                case "kernel" -> tensors.add(kernel(layer, weight, kernelRole(layer), LayerTensor.Part.KERNEL));
                case "depthwise_kernel" -> tensors.add(kernel(layer, weight, TensorRole.DEPTHWISE_HWIM,
                        LayerTensor.Part.DEPTHWISE_KERNEL));
                case "pointwise_kernel" -> tensors.add(kernel(layer, weight, TensorRole.CONV_HWIO,
                        LayerTensor.Part.POINTWISE_KERNEL));
                default -> {
                    // a bias does not read the input's channels
                }
            }
        }
        return tensors;
    }

    private LayerTensor kernel(KerasLayer layer, KerasWeight weight, TensorRole role, LayerTensor.Part part) {
        return LayerTensor.kernel(tensor(layer, weight, role), part, weight.name(), weight.name());
    }

    /** How a layer's {@code kernel} is laid out. */
    private static TensorRole kernelRole(KerasLayer layer) {
        String cls = layer.className();
        if (cls.equals("Dense")) {
            return TensorRole.DENSE_IN_OUT;
        }
        if (KerasLayerKinds.isTranspose(cls)) {
            return TensorRole.CONV_TRANSPOSE_HWOI;
        }
        if (layer.config().path("dim_ordering").asText("").equals("th")) {
            return TensorRole.CONV_OIHW; // Theano kernels are (out, in, rows, cols)
        }
        return TensorRole.CONV_HWIO;
    }

    /** The statistic a normalising layer's variable or config list holds, or null (a scale, a shift). */
    private static Statistic statistic(String name) {
        return switch (name) {
            case "mean", "moving_mean" -> Statistic.MEAN;
            case "variance", "moving_variance" -> Statistic.VARIANCE;
            default -> null;
        };
    }

    private NamedTensor tensor(KerasLayer layer, KerasWeight weight, TensorRole role) {
        weights.put(weight.path(), weight);
        owners.put(weight.path(), layer);
        return NamedTensor.of(weight.path(), dtype(weight), weight.shape(), role);
    }

    /** The variable's type by {@link NamedTensor}'s names; a type rechannel cannot adapt is refused where it is read. */
    private String dtype(KerasWeight weight) {
        try {
            return dtype(view.store().elementType(weight));
        } catch (RechannelException e) {
            return "unsupported";
        }
    }

    /** A config's lists describe its own model: one given beside a weights file may describe another. */
    @Override
    public List<RecordedList> listsOf(Consumer consumer) {
        KerasLayer layer = view.graph().layer(consumer.node().id());
        if (layer == null || view.configFromElsewhere()) {
            return List.of();
        }
        boolean normalises = NORMALISING.contains(layer.className());
        List<RecordedList> lists = new ArrayList<>();
        for (String key : CONFIG_LISTS) {
            JsonNode array = layer.config().path(key);
            if (array.isArray()) {
                double[] values = new double[array.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = array.get(i).asDouble();
                }
                lists.add(new RecordedList(key, values, normalises ? statistic(key) : null));
            }
        }
        return lists;
    }

    @Override
    public List<NamedTensor> slotsOf(NamedTensor tensor) {
        KerasWeight weight = weight(tensor);
        List<KerasWeight> slots = view.store().optimizerSlots(weight);
        if (slots.isEmpty() && view.store() instanceof LegacyH5Store legacy
                && !legacy.anonymousOptimizerSlots(weight).isEmpty()) {
            throw RechannelException.unsupported(source + ": the optimizer state does not say which variable each"
                    + " slot belongs to, so the slots of '" + owners.get(weight.path()).path() + "' cannot be found;"
                    + " " + OptionName.DROP_OPTIMIZER + " removes the optimizer state instead");
        }
        List<NamedTensor> named = new ArrayList<>();
        for (KerasWeight slot : slots) {
            weights.put(slot.path(), slot);
            named.add(new NamedTensor(slot.path(), dtype(slot), slot.shape(), tensor.role(),
                    tensor.name()));
        }
        return named;
    }

    /** The variable behind a tensor this model handed out. */
    KerasWeight weight(NamedTensor tensor) {
        KerasWeight weight = weights.get(tensor.name());
        if (weight == null) {
            throw new IllegalArgumentException("not a variable of " + source + ": " + tensor);
        }
        return weight;
    }

    @Override
    public double[] read(NamedTensor tensor) {
        return view.store().read(weight(tensor));
    }

    @Override
    public Blocks.Reader reader(NamedTensor tensor) {
        KerasWeight weight = weight(tensor);
        return (slab, into) -> view.store().readBlock(weight, slab, into);
    }

    @Override
    public ElementType elementType(NamedTensor tensor) {
        return view.store().elementType(weight(tensor));
    }

    @Override
    public StoredTensors stored() {
        if (stored == null) {
            stored = new KerasStoredTensors(view.file(), view.store());
        }
        return stored;
    }

    /** An element type by the names {@link NamedTensor} uses ({@code F32}, {@code I64}). */
    static String dtype(ElementType type) {
        return (type.floating() ? "F" : type.signed() ? "I" : "U") + type.bits();
    }
}

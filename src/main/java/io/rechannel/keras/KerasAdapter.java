package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ElementType;
import io.rechannel.core.Mixing;
import io.rechannel.core.PerChannelConstants;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Remix;
import io.rechannel.core.TensorLayout;
import io.rechannel.format.TensorChange;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.ModelGraph;
import io.rechannel.graph.Segment;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Applies a channel map to a planned Keras model: mixes the consumers' kernels, re-indexes per-channel
 * constants and optimizer state, and updates every channel count the config records. The model
 * config is edited in place ({@link KerasModelGraph#root()}); the caller writes it back.
 */
final class KerasAdapter {

    private final KerasPlan plan;
    private final ChannelMap map;
    private final AdaptOptions options;
    private final String source;
    private final List<TensorChange> tensorChanges = new ArrayList<>();
    private final List<String> configChanges = new ArrayList<>();
    private int resized;
    private final Set<ArrayNode> resizedShapes = Collections.newSetFromMap(new IdentityHashMap<>());

    private final boolean statsInside;

    KerasAdapter(KerasPlan plan, ChannelMap map, AdaptOptions options, String source) {
        this(plan, map, options, source, false);
    }

    /**
     * @param statsOutside the model's outside preprocessing is known, so {@code stats} may go to it (the input
     *                     contract) when no normalising layer sits in front of the adapted layers
     */
    KerasAdapter(KerasPlan plan, ChannelMap map, AdaptOptions options, String source, boolean statsOutside) {
        this.plan = plan;
        this.map = map;
        this.options = options;
        this.source = source;
        List<PerChannelConstants.Target> targets = Stream.concat(
                plan.constants().stream().filter(c -> c.statistic() != null)
                        .map(c -> new PerChannelConstants.Target("'" + c.layer().path() + "'", c.statistic(),
                                c.consumer().segment().slices())),
                plan.configLists().stream().filter(c -> c.statistic() != null)
                        .map(c -> new PerChannelConstants.Target("'" + c.layer().path() + "'", c.statistic(),
                                c.consumer().segment().slices()))).toList();
        PerChannelConstants.checkStatsTargets(options.stats(), targets, source, plan.dependency().input(),
                "Normalization or BatchNormalization layer", statsOutside);
        statsInside = !targets.isEmpty();
    }

    /** True when {@code stats} go to a normalising layer inside the model (else to the input contract). */
    boolean statsGoInside() {
        return statsInside;
    }

    /** Every variable changed so far, with its shapes. */
    List<TensorChange> tensorChanges() {
        return List.copyOf(tensorChanges);
    }

    /** One line per change of the config made so far. */
    List<String> configChanges() {
        return List.copyOf(configChanges);
    }

    /**
     * Changes the variables in {@code store}: kernels and optimizer state are re-mixed block by block
     * (their size does not matter); per-channel constants, a few values each, in memory. Every value
     * read must be finite and every value written must fit the variable's element type.
     */
    void adaptWeights(KerasWeightStore store) {
        for (KerasPlan.ViewedWeight mixed : plan.mixed()) {
            long seed = map.seed() ^ mixed.weight().path().hashCode();
            ChannelMap sliced = mixed.consumer().segment().map(map);
            ChannelMap used = sliced;
            if (mixed.layer().className().startsWith("SeparableConv")) {
                if (!map.hasSingleSourceRows()) {
                    throw RechannelException.inexact(source + ": layer '" + mixed.layer().path() + "' ("
                            + mixed.layer().className() + ") filters each input channel separately before mixing, so a new"
                            + " channel can only copy (or scale, or zero) one old channel there: use rules like Y=B or Y=0");
                }
                used = mixed.mixing() == KerasPlan.Mixing.PATTERN ? map.support() : map;
            }
            remix(store, mixed, mixed.weight(), Mixing.kernel(used, seed), TensorChange.Kind.MIXED, sliced.kernelChange());
            if (!options.dropsOptimizer()) {
                for (KerasWeight slot : store.optimizerSlots(mixed.weight())) {
                    remix(store, mixed, slot, Mixing.state(sliced), TensorChange.Kind.OPTIMIZER_STATE, null);
                }
            }
        }
        for (KerasPlan.ViewedWeight constant : plan.constants()) {
            ChannelMap sliced = constant.consumer().segment().map(map);
            double[] values = PerChannelConstants.adapt(store.read(constant.weight()), constant.view(), sliced,
                    constant.statistic(), options.stats(), store.elementType(constant.weight()),
                    source + ": " + constant.weight().path());
            long[] newShape = constant.weight().shape().length == 0 ? new long[0] : constant.newShape(sliced.newCount());
            store.replace(constant.weight(), newShape, values);
            tensorChanges.add(TensorChange.of(constant.weight().path(), constant.weight().shape(), newShape,
                    TensorChange.Kind.CONSTANTS));
        }
    }

    /**
     * Re-mixes {@code weight} (a kernel, or one of its optimizer slots) laid out as {@code viewed}'s kernel;
     * {@code label} says what happened to it in the report (null: its kind's word).
     */
    private void remix(KerasWeightStore store, KerasPlan.ViewedWeight viewed, KerasWeight weight, Mixing mixing,
                       TensorChange.Kind kind, String label) {
        TensorLayout layout = TensorLayout.of(weight.shape(), viewed.view(), viewed.dim());
        Remix remix = new Remix(source + ": " + weight.path(), layout, mixing);
        store.replace(weight, remix);
        tensorChanges.add(TensorChange.of(weight.path(), weight.shape(), remix.newShape(), kind).labelled(label));
    }

    /** Updates the model config: input shapes, recorded tensor shapes, per-channel config lists. */
    void adaptConfig() {
        KerasModelGraph model = plan.model();
        Map<String, Segment> carried = plan.dependency().tensors();
        for (Map.Entry<String, Segment> entry : carried.entrySet()) {
            KerasLayer layer = model.layer(entry.getKey());
            if (layer == null && entry.getKey().endsWith("_input")) {
                // Keras 1/2 Sequential: the first layer declares the input shape
                layer = model.layer(entry.getKey().substring(0, entry.getKey().length() - "_input".length()));
            }
            if (layer != null && (layer.className().equals("InputLayer") || layer.sequentialIndex() == 0)) {
                for (String key : List.of("batch_shape", "batch_input_shape")) {
                    if (layer.config().get(key) instanceof ArrayNode shape) {
                        resize(shape, entry.getValue(), layer.path() + "." + key);
                    }
                }
            }
        }
        for (KerasLayer layer : model.layers()) {
            updateRecordedShapes(layer, carried);
        }
        // the model's own build_config (a Sequential records its input shape there)
        JsonNode rootBuild = model.root().path("build_config").path("input_shape");
        Segment input = carried.get(plan.dependency().input());
        if (rootBuild instanceof ArrayNode array && !array.isEmpty() && !array.get(0).isArray()
                && model.graph().inputs().size() == 1) {
            resize(array, input, "build_config");
        }
        for (KerasPlan.ConfigList list : plan.configLists()) {
            ArrayNode array = (ArrayNode) list.layer().config().get(list.key());
            double[] old = new double[array.size()];
            for (int i = 0; i < old.length; i++) {
                old[i] = array.get(i).asDouble();
            }
            Segment segment = list.consumer().segment();
            AxisView view = new AxisView(1, old.length, 1, segment.offset(), segment.span(plan.channels()));
            double[] values = PerChannelConstants.adapt(old, view, segment.map(map), list.statistic(), options.stats(),
                    ElementType.FLOAT64, source + ": config of layer '" + list.layer().path() + "' " + list.key());
            array.removeAll();
            for (double v : values) {
                array.add(v);
            }
            configChanges.add("config " + list.layer().path() + "." + list.key() + ": " + old.length + " -> "
                    + values.length + " values");
        }
        configChanges.add("config: " + resized + " recorded channel counts updated");
    }

    /**
     * Keras 3 records each call's input shapes and, in .keras configs, a build_config input shape per
     * layer; Keras builds the layer from the latter, so a stale one makes the model refuse its input.
     */
    private void updateRecordedShapes(KerasLayer layer, Map<String, Segment> carried) {
        JsonNode calls = layer.entry().path("inbound_nodes");
        for (int k = 0; k < calls.size(); k++) {
            JsonNode call = calls.get(k);
            if (call.isObject()) {
                visitTensors(layer.scope(), call.path("args"), carried, layer.path());
            }
        }
        JsonNode build = layer.entry().path("build_config").path("input_shape");
        if (!build.isArray() || build.isEmpty()) {
            return;
        }
        List<Segment> inputs = buildInputs(layer, carried);
        boolean single = !build.get(0).isArray();
        for (int i = 0; i < inputs.size(); i++) {
            JsonNode shape = single ? (i == 0 ? build : null) : build.get(i);
            if (inputs.get(i) != null && shape instanceof ArrayNode array) {
                resize(array, inputs.get(i), layer.path() + ".build_config");
            }
        }
    }

    /** Where each input of a layer's first call carries the adapted channels (null entries: not at all). */
    private List<Segment> buildInputs(KerasLayer layer, Map<String, Segment> carried) {
        List<Segment> segments = new ArrayList<>();
        if (layer.isModel()) {
            // a nested model is built from its input layers, which forward what the caller passed in
            for (KerasLayer inner : plan.model().layers()) {
                if (inner.scope().equals(layer.path() + "/") && inner.className().equals("InputLayer")) {
                    segments.add(carried.get(inner.path()));
                }
            }
            return segments;
        }
        ModelGraph graph = plan.model().graph();
        if (graph.nodes().stream().noneMatch(n -> n.id().equals(layer.path()))) {
            return segments;
        }
        for (String input : graph.node(layer.path()).inputs()) {
            segments.add(carried.get(input));
        }
        return segments;
    }

    private void visitTensors(String scope, JsonNode node, Map<String, Segment> carried, String where) {
        if (node.isArray()) {
            node.forEach(item -> visitTensors(scope, item, carried, where));
        } else if (node.isObject() && "__keras_tensor__".equals(node.path("class_name").asText())) {
            String id = KerasModelGraph.tensorId(scope, node.path("config").path("keras_history"));
            Segment segment = carried.get(id);
            if (segment != null && node.path("config").get("shape") instanceof ArrayNode shape) {
                resize(shape, segment, where);
            }
        }
    }

    private void resize(ArrayNode shape, Segment segment, String where) {
        // one recorded shape can be reached twice (a Sequential's first layer declares the input shape)
        if (shape.isEmpty() || !resizedShapes.add(shape)) {
            return;
        }
        int index = segment.shapeIndex(shape.size(), ChannelAxis.LAST);
        JsonNode value = shape.get(index);
        if (!value.isNumber()) {
            return;
        }
        long old = value.asLong();
        long updated = segment.resizedEntry(old, plan.channels(), map.newCount());
        if (updated < 1) {
            throw RechannelException.malformed(source + ": " + where + " records " + old
                    + " channels, fewer than the input's " + plan.channels());
        }
        shape.set(index, updated);
        resized++;
    }

}

package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.ChannelStats;
import io.rechannel.core.ElementType;
import io.rechannel.core.Mixing;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Remix;
import io.rechannel.core.TensorLayout;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.Segment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies a channel map to a planned Keras model: mixes the consumers' kernels, re-indexes per-channel
 * constants and optimizer state, and updates every channel count the config records. The model
 * config is edited in place ({@link KerasModelGraph#root()}); the caller writes it back.
 */
public final class KerasAdapter {

    private static final Set<String> NORMALISING = Set.of("Normalization", "BatchNormalization");

    private final KerasPlan plan;
    private final ChannelMap map;
    private final AdaptOptions options;
    private final String source;
    private final List<String> changes = new ArrayList<>();
    private int resized;
    private final Set<ArrayNode> resizedShapes = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    private final boolean statsOutside;

    public KerasAdapter(KerasPlan plan, ChannelMap map, AdaptOptions options, String source) {
        this(plan, map, options, source, false);
    }

    /**
     * @param statsOutside the model's outside preprocessing is known, so {@code --stats} may go to it (the input
     *                     contract) when no normalising layer sits in front of the adapted layers
     */
    public KerasAdapter(KerasPlan plan, ChannelMap map, AdaptOptions options, String source, boolean statsOutside) {
        this.plan = plan;
        this.map = map;
        this.options = options;
        this.source = source;
        this.statsOutside = statsOutside;
        checkStatsTarget();
    }

    /** True when {@code --stats} go to a normalising layer inside the model (else to the input contract). */
    public boolean statsGoInside() {
        return firstNormalising() != null;
    }

    /** One line per change made so far. */
    public List<String> changes() {
        return List.copyOf(changes);
    }

    /**
     * Changes the variables in {@code store}: kernels and optimizer state are re-mixed block by block
     * (their size does not matter); per-channel constants, a few values each, in memory. Every value
     * read must be finite and every value written must fit the variable's element type.
     */
    public void adaptWeights(KerasWeightStore store) {
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
            remix(store, mixed, mixed.weight(), Mixing.kernel(used, seed), sliced.kernelChange());
            if (!options.dropOptimizer()) {
                for (KerasWeight slot : store.optimizerSlots(mixed.weight())) {
                    remix(store, mixed, slot, Mixing.state(sliced), "optimizer state");
                }
            }
        }
        for (KerasPlan.ViewedWeight constant : plan.constants()) {
            ChannelMap sliced = constant.consumer().segment().map(map);
            String where = source + ": " + constant.weight().path();
            ElementType type = store.elementType(constant.weight());
            double[] old = store.read(constant.weight());
            ChannelMixer.checkSource(old, type, where);
            double[] values = ChannelMixer.remapConstants(old, constant.view(), sliced);
            if (isStatsLayer(constant.layer())) {
                applyStats(values, constant.view().withCount(map.newCount()), constant.weight().name());
            }
            ChannelMixer.checkResult(values, type, where);
            long[] newShape = constant.weight().shape().length == 0 ? new long[0] : constant.newShape(sliced.newCount());
            store.replace(constant.weight(), newShape, values);
            recordChange(constant.weight(), newShape, "per-channel constants");
        }
    }

    /** Re-mixes {@code weight} (a kernel, or one of its optimizer slots) laid out as {@code viewed}'s kernel. */
    private void remix(KerasWeightStore store, KerasPlan.ViewedWeight viewed, KerasWeight weight, Mixing mixing, String what) {
        TensorLayout layout = TensorLayout.of(weight.shape(), viewed.view(), viewed.dim());
        Remix remix = new Remix(source + ": " + weight.path(), layout, mixing);
        store.replace(weight, remix);
        recordChange(weight, remix.newShape(), what);
    }

    private void recordChange(KerasWeight weight, long[] newShape, String what) {
        changes.add(weight.path() + " " + Arrays.toString(weight.shape()) + " -> " + Arrays.toString(newShape)
                + " (" + what + ")");
    }

    /** Updates the model config: input shapes, recorded tensor shapes, per-channel config lists. */
    public void adaptConfig() {
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
            String where = source + ": config of layer '" + list.layer().path() + "' " + list.key();
            ChannelMixer.checkSource(old, ElementType.FLOAT64, where);
            double[] values = ChannelMixer.remapConstants(old, view, segment.map(map));
            if (isStatsLayer(list.layer())) {
                applyStats(values, view.withCount(map.newCount()), list.key());
            }
            ChannelMixer.checkResult(values, ElementType.FLOAT64, where);
            array.removeAll();
            for (double v : values) {
                array.add(v);
            }
            changes.add("config " + list.layer().path() + "." + list.key() + ": " + old.length + " -> " + values.length + " values");
        }
        changes.add("config: " + resized + " recorded channel counts updated");
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
        io.rechannel.graph.ModelGraph graph = plan.model().graph();
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
            JsonNode history = node.path("config").path("keras_history");
            int call = history.size() > 1 ? history.get(1).asInt(0) : 0;
            String id = scope + history.path(0).asText() + (call > 0 ? "#" + call : "");
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
        int rank = shape.size();
        ChannelAxis axis = segment.axis() == null ? ChannelAxis.LAST : segment.axis();
        int index = segment.flattened() ? rank - 1 : axis.index(rank);
        JsonNode value = shape.get(index);
        if (!value.isNumber()) {
            return;
        }
        long old = value.asLong();
        long updated;
        if (segment.flattened()) {
            int total = segment.total() > 0 ? segment.total() : plan.channels();
            updated = old / total * segment.resized(total, plan.channels(), map.newCount());
        } else {
            updated = segment.resized(old, plan.channels(), map.newCount());
        }
        if (updated < 1) {
            throw RechannelException.malformed(source + ": " + where + " records " + old
                    + " channels, fewer than the input's " + plan.channels());
        }
        shape.set(index, updated);
        resized++;
    }

    private boolean isStatsLayer(KerasLayer layer) {
        KerasLayer first = firstNormalising();
        return first != null && first.path().equals(layer.path()) && !options.stats().isEmpty();
    }

    private KerasLayer firstNormalising() {
        return plan.dependency().constants().stream()
                .map(c -> plan.model().layer(c.node().id()))
                .filter(l -> NORMALISING.contains(l.className()))
                .findFirst().orElse(null);
    }

    private void checkStatsTarget() {
        if (options.stats().isEmpty()) {
            return;
        }
        KerasLayer first = firstNormalising();
        if (first == null && statsOutside) {
            return;
        }
        if (first == null) {
            throw RechannelException.usage(source + ": --stats given but no Normalization or BatchNormalization"
                    + " layer sits between input '" + plan.dependency().input() + "' and the adapted layers, and the"
                    + " preprocessing outside the model is unknown (state it with --norm)");
        }
        if (plan.dependency().constants().stream().anyMatch(c -> c.node().id().equals(first.path()) && c.segment().slices() > 1)) {
            throw RechannelException.usage(source + ": --stats given but '" + first.path() + "', the first normalising"
                    + " layer, reads the input's channels more than once (behind a concatenation); rechannel sets --stats"
                    + " only where it reads them once");
        }
    }

    /** Writes the user's mean / variance for the named new channels into a normalising layer's constants. */
    private void applyStats(double[] values, AxisView view, String key) {
        for (Map.Entry<String, ChannelStats> entry : options.stats().entrySet()) {
            int j = map.to().indexOf(entry.getKey());
            double value = switch (key) {
                case "mean", "moving_mean" -> entry.getValue().mean();
                case "variance", "moving_variance" -> entry.getValue().std() * entry.getValue().std();
                default -> Double.NaN;
            };
            if (!Double.isNaN(value)) {
                view.fillChannel(values, j, value);
            }
        }
    }
}

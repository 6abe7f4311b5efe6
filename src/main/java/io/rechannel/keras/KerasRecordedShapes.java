package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.rechannel.core.RechannelException;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.ChannelDependency;
import io.rechannel.graph.ModelGraph;
import io.rechannel.graph.Segment;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Updates every channel count a Keras config records for the tensors carrying the adapted channels: the input
 * layer's batch shape, each call's recorded input shapes, and the {@code build_config} input shapes Keras
 * builds layers from (a stale one makes the model refuse its input). The config is edited in place
 * ({@link KerasModelGraph#root()}).
 */
final class KerasRecordedShapes {

    private final KerasModelGraph model;
    private final Map<String, Segment> carried;
    private final String input;
    private final int channels;
    private final int newChannels;
    private final String source;
    /** One recorded shape can be reached twice (a Sequential's first layer declares the input shape). */
    private final Set<ArrayNode> resized = Collections.newSetFromMap(new IdentityHashMap<>());

    /** For {@code dependency}'s input going from {@code channels} to {@code newChannels} channels. */
    KerasRecordedShapes(KerasModelGraph model, ChannelDependency dependency, int channels, int newChannels,
                        String source) {
        this.model = model;
        this.carried = dependency.tensors();
        this.input = dependency.input();
        this.channels = channels;
        this.newChannels = newChannels;
        this.source = source;
    }

    /** Updates the config; returns the line reporting it. */
    String update() {
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
            updateCalls(layer);
        }
        // the model's own build_config (a Sequential records its input shape there)
        JsonNode rootBuild = model.root().path("build_config").path("input_shape");
        if (rootBuild instanceof ArrayNode array && !array.isEmpty() && !array.get(0).isArray()
                && model.graph().inputs().size() == 1) {
            resize(array, carried.get(input), "build_config");
        }
        return "config: " + resized.size() + " recorded channel counts updated";
    }

    /**
     * Keras 3 records each call's input shapes and, in .keras configs, a build_config input shape per
     * layer; Keras builds the layer from the latter.
     */
    private void updateCalls(KerasLayer layer) {
        JsonNode calls = layer.entry().path("inbound_nodes");
        for (int k = 0; k < calls.size(); k++) {
            JsonNode call = calls.get(k);
            if (call.isObject()) {
                visitTensors(layer.scope(), call.path("args"), layer.path());
            }
        }
        JsonNode build = layer.entry().path("build_config").path("input_shape");
        if (!build.isArray() || build.isEmpty()) {
            return;
        }
        List<Segment> inputs = buildInputs(layer);
        boolean single = !build.get(0).isArray();
        for (int i = 0; i < inputs.size(); i++) {
            JsonNode shape = single ? (i == 0 ? build : null) : build.get(i);
            if (inputs.get(i) != null && shape instanceof ArrayNode array) {
                resize(array, inputs.get(i), layer.path() + ".build_config");
            }
        }
    }

    /** Where each input of a layer's first call carries the adapted channels (null entries: not at all). */
    private List<Segment> buildInputs(KerasLayer layer) {
        List<Segment> segments = new ArrayList<>();
        if (layer.isModel()) {
            // a nested model is built from its input layers, which forward what the caller passed in
            for (KerasLayer inner : model.layers()) {
                if (inner.scope().equals(layer.path() + "/") && inner.className().equals("InputLayer")) {
                    segments.add(carried.get(inner.path()));
                }
            }
            return segments;
        }
        ModelGraph graph = model.graph();
        if (graph.nodes().stream().noneMatch(n -> n.id().equals(layer.path()))) {
            return segments;
        }
        for (String in : graph.node(layer.path()).inputs()) {
            segments.add(carried.get(in));
        }
        return segments;
    }

    private void visitTensors(String scope, JsonNode node, String where) {
        if (node.isArray()) {
            node.forEach(item -> visitTensors(scope, item, where));
        } else if (node.isObject() && "__keras_tensor__".equals(node.path("class_name").asText())) {
            String id = KerasModelGraph.tensorId(scope, node.path("config").path("keras_history"));
            Segment segment = carried.get(id);
            if (segment != null && node.path("config").get("shape") instanceof ArrayNode shape) {
                resize(shape, segment, where);
            }
        }
    }

    private void resize(ArrayNode shape, Segment segment, String where) {
        if (shape.isEmpty() || resized.contains(shape)) {
            return;
        }
        int index = segment.shapeIndex(shape.size(), ChannelAxis.LAST);
        JsonNode value = shape.get(index);
        if (!value.isNumber()) {
            return;
        }
        long old = value.asLong();
        long updated = segment.resizedEntry(old, channels, newChannels);
        if (updated < 1) {
            throw RechannelException.malformed(source + ": " + where + " records " + old
                    + " channels, fewer than the input's " + channels);
        }
        shape.set(index, updated);
        resized.add(shape);
    }
}

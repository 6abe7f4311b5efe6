package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.RechannelException;
import io.rechannel.graph.ModelGraph;
import io.rechannel.graph.Node;
import io.rechannel.graph.NodeRole;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Keras model config (Keras 1, 2 and 3; Sequential, Functional and models nested in models)
 * into a {@link ModelGraph}. Node ids are layer names, qualified by the enclosing model for nested
 * models ({@code vgg19/block1_conv1}), with {@code #k} for a layer's k-th call when it is called again.
 */
public final class KerasModelGraph {

    private final ObjectNode root;
    private final String source;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, KerasLayer> layers = new LinkedHashMap<>();
    private ModelGraph graph;

    private KerasModelGraph(ObjectNode root, String source) {
        this.root = root;
        this.source = source;
    }

    /** Builds the graph of a model config; {@code source} names the file in messages. */
    public static KerasModelGraph of(ObjectNode modelConfig, String source) {
        KerasModelGraph result = new KerasModelGraph(modelConfig, source);
        result.addModel("", modelConfig, null);
        result.validate();
        result.graph = new ModelGraph(result.nodes);
        return result;
    }

    /**
     * A config is text anyone can edit: every layer must be named once, every reference must name a
     * layer of the config, and no layer may depend on its own output.
     */
    private void validate() {
        Map<String, Node> byId = new LinkedHashMap<>();
        for (Node node : nodes) {
            if (byId.put(node.id(), node) != null) {
                throw RechannelException.malformed(source + ": the model config has two layers named '" + node.id() + "'");
            }
        }
        for (Node node : nodes) {
            for (String input : node.inputs()) {
                if (!byId.containsKey(input)) {
                    throw RechannelException.malformed(source + ": layer '" + node.id() + "' reads '" + input
                            + "', which is not a layer of the model config");
                }
            }
        }
        // depth-first search for a layer reached again while its own inputs are being followed
        Map<String, Boolean> finished = new HashMap<>();
        for (Node start : nodes) {
            Deque<Iterator<String>> stack = new ArrayDeque<>();
            Deque<String> path = new ArrayDeque<>();
            if (finished.containsKey(start.id())) {
                continue;
            }
            finished.put(start.id(), false);
            path.push(start.id());
            stack.push(start.inputs().iterator());
            while (!stack.isEmpty()) {
                if (!stack.peek().hasNext()) {
                    stack.pop();
                    finished.put(path.pop(), true);
                    continue;
                }
                String next = stack.peek().next();
                Boolean state = finished.get(next);
                if (state == null) {
                    finished.put(next, false);
                    path.push(next);
                    stack.push(byId.get(next).inputs().iterator());
                } else if (!state) {
                    throw RechannelException.malformed(source + ": layer '" + next + "' depends on its own output"
                            + " (the model config's layers form a cycle)");
                }
            }
        }
    }

    /**
     * A stand-in for a file without a config: one layer, named {@code name}, reading the input, its class
     * told from the rank of its kernel (2: Dense, 3–5: Conv1D–Conv3D, kernels in Keras's (…, in, out) layout).
     */
    public static KerasModelGraph singleLayer(String name, int kernelRank, String source) {
        String cls = switch (kernelRank) {
            case 2 -> "Dense";
            case 3 -> "Conv1D";
            case 4 -> "Conv2D";
            case 5 -> "Conv3D";
            default -> throw RechannelException.unsupported(source + ": layer '" + name + "' kernel has rank " + kernelRank);
        };
        ObjectNode root = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        root.put("class_name", "Sequential");
        ArrayNode layers = root.putObject("config").put("name", "weights_only").putArray("layers");
        layers.addObject().put("class_name", cls).putObject("config").put("name", name);
        return of(root, source);
    }

    public ModelGraph graph() {
        return graph;
    }

    public ObjectNode root() {
        return root;
    }

    /** The Keras layer behind a node id, or null for an input the config only implies (Keras 1/2 Sequential). */
    public KerasLayer layer(String nodeId) {
        return layers.get(stripCall(nodeId));
    }

    /** All layers, nested ones included, in config order. */
    public List<KerasLayer> layers() {
        return List.copyOf(layers.values());
    }

    static String stripCall(String nodeId) {
        int hash = nodeId.indexOf('#');
        return hash < 0 ? nodeId : nodeId.substring(0, hash);
    }

    /** Adds a model's layers; returns the ids of its outputs. */
    private List<String> addModel(String scope, JsonNode modelEntry, List<String> callInputs) {
        JsonNode config = modelEntry.path("config");
        JsonNode layerList = config.isArray() ? config : config.path("layers");
        if (!layerList.isArray()) {
            throw RechannelException.malformed(source + ": model config of '" + scope + "' has no layer list");
        }
        String cls = modelEntry.path("class_name").asText("");
        if (cls.equals("Sequential") || config.isArray()) {
            return addSequential(scope, config, (ArrayNode) layerList, callInputs);
        }
        return addFunctional(scope, config, (ArrayNode) layerList, callInputs);
    }

    private List<String> addSequential(String scope, JsonNode config, ArrayNode layerList, List<String> callInputs) {
        String previous = null;
        for (int i = 0; i < layerList.size(); i++) {
            ObjectNode entry = layerEntry(layerList.get(i), scope);
            KerasLayer layer = register(scope, entry, i);
            if (i == 0 && !layer.className().equals("InputLayer")) {
                // Keras 1/2 Sequential: the first layer declares the input shape itself
                String inputId = scope + layer.name() + "_input";
                nodes.add(inputNode(inputId, shapeOf(layer.config()), callInputs));
                previous = inputId;
            }
            if (layer.className().equals("InputLayer")) {
                nodes.add(inputNode(layer.path(), shapeOf(layer.config()), callInputs));
                layers.put(layer.path(), layer);
                previous = layer.path();
                continue;
            }
            previous = addLayerCall(layer, previous == null ? List.of() : List.of(previous), null, 0);
        }
        return previous == null ? List.of() : List.of(previous);
    }

    private List<String> addFunctional(String scope, JsonNode config, ArrayNode layerList, List<String> callInputs) {
        List<String> inputNames = new ArrayList<>();
        for (JsonNode ref : refList(config.path("input_layers"))) {
            inputNames.add(refName(ref));
        }
        for (JsonNode item : layerList) {
            ObjectNode entry = layerEntry(item, scope);
            KerasLayer layer = register(scope, entry, -1);
            if (layer.className().equals("InputLayer")) {
                int index = inputNames.indexOf(layer.name());
                List<String> feeding = callInputs == null ? null
                        : index >= 0 && index < callInputs.size() ? List.of(callInputs.get(index)) : List.of();
                nodes.add(inputNode(layer.path(), shapeOf(layer.config()), feeding));
                continue;
            }
            JsonNode calls = entry.path("inbound_nodes");
            for (int k = 0; k < calls.size(); k++) {
                List<String> inputs = new ArrayList<>();
                List<long[]> shapes = new ArrayList<>();
                readCall(scope, calls.get(k), inputs, shapes);
                addLayerCall(layer, inputs, shapes, k);
            }
        }
        List<String> outputs = new ArrayList<>();
        for (JsonNode ref : refList(config.path("output_layers"))) {
            outputs.add(refId(scope, ref));
        }
        return outputs;
    }

    /** Adds one call of a layer (recursing into nested models); returns the id of its output. */
    private String addLayerCall(KerasLayer layer, List<String> inputs, List<long[]> shapes, int call) {
        String id = layer.path() + (call > 0 ? "#" + call : "");
        if (layer.isModel() && call == 0) {
            List<String> outputs = addModel(layer.path() + "/", layer.entry(), inputs);
            nodes.add(new Node(id, layer.className(), NodeRole.NESTED_MODEL, outputs, null, null, null, null));
            return id;
        }
        NodeRole role = layer.isModel() ? NodeRole.OPAQUE : KerasLayerKinds.role(layer);
        String refusal = role == NodeRole.MIXES_CHANNELS ? KerasLayerKinds.refusal(layer) : null;
        Integer concatAxis = role == NodeRole.CONCAT ? layer.config().path("axis").asInt(-1) : null;
        nodes.add(new Node(id, layer.className(), role, inputs, shapes, KerasLayerKinds.channelAxis(layer),
                concatAxis, refusal));
        return id;
    }

    private Node inputNode(String id, long[] shape, List<String> feeding) {
        if (feeding == null) {
            return Node.input(id, shape, null);
        }
        // the input layer of a nested model forwards whatever the enclosing model passes in
        return new Node(id, "InputLayer", NodeRole.PER_CHANNEL, feeding, null, null, null, null);
    }

    private KerasLayer register(String scope, ObjectNode entry, int sequentialIndex) {
        String name = entry.path("name").asText(entry.path("config").path("name").asText(""));
        if (name.isEmpty()) {
            throw RechannelException.malformed(source + ": a layer in the model config has no name");
        }
        KerasLayer layer = new KerasLayer(scope, name, entry.path("class_name").asText(""), entry, sequentialIndex);
        layers.put(layer.path(), layer);
        return layer;
    }

    /** Collects the input tensors of one call, Keras 3 ({args, kwargs}) or Keras 1/2 ([[name, node, tensor, kwargs]]). */
    private void readCall(String scope, JsonNode call, List<String> inputs, List<long[]> shapes) {
        if (call.isObject()) {
            collectTensors(scope, call.path("args"), inputs, shapes);
            return;
        }
        if (!call.isArray()) {
            throw RechannelException.malformed(source + ": the model config has a layer call " + abbreviated(call)
                    + " where Keras writes a list of layer references");
        }
        for (JsonNode ref : call) {
            inputs.add(refId(scope, ref));
            shapes.add(null);
        }
    }

    private void collectTensors(String scope, JsonNode node, List<String> inputs, List<long[]> shapes) {
        if (node.isArray()) {
            for (JsonNode item : node) {
                collectTensors(scope, item, inputs, shapes);
            }
        } else if (node.isObject() && "__keras_tensor__".equals(node.path("class_name").asText())) {
            JsonNode cfg = node.path("config");
            inputs.add(refId(scope, cfg.path("keras_history")));
            shapes.add(toShape(cfg.path("shape")));
        }
    }

    private String refId(String scope, JsonNode ref) {
        int call = ref.size() > 1 ? ref.get(1).asInt(0) : 0;
        return scope + refName(ref) + (call > 0 ? "#" + call : "");
    }

    /** The layer name of a reference [name, node, tensor]; refused when the config has something else there. */
    private String refName(JsonNode ref) {
        if (!ref.isArray() || ref.isEmpty() || !ref.get(0).isTextual()) {
            throw RechannelException.malformed(source + ": the model config has a layer reference " + abbreviated(ref)
                    + " where Keras writes [name, node, tensor]");
        }
        return ref.get(0).asText();
    }

    private ObjectNode layerEntry(JsonNode item, String scope) {
        if (!(item instanceof ObjectNode entry)) {
            throw RechannelException.malformed(source + ": the layer list of " + (scope.isEmpty() ? "the model" : "'" + scope
                    + "'") + " holds " + abbreviated(item) + " where Keras writes a layer");
        }
        return entry;
    }

    private static String abbreviated(JsonNode node) {
        String text = node.toString();
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }

    /** input_layers / output_layers: a list of [name, node, tensor] refs, or a single such ref. */
    private static List<JsonNode> refList(JsonNode refs) {
        List<JsonNode> list = new ArrayList<>();
        if (!refs.isArray() || refs.isEmpty()) {
            return list;
        }
        if (refs.get(0).isTextual()) {
            list.add(refs);
        } else {
            refs.forEach(list::add);
        }
        return list;
    }

    /** The declared input shape of a layer config, batch axis first, -1 for unknown; null when absent. */
    static long[] shapeOf(JsonNode config) {
        for (String key : List.of("batch_shape", "batch_input_shape")) {
            if (config.path(key).isArray()) {
                return toShape(config.path(key));
            }
        }
        if (config.path("input_shape").isArray()) {
            long[] inner = toShape(config.path("input_shape"));
            long[] shape = new long[inner.length + 1];
            shape[0] = -1;
            System.arraycopy(inner, 0, shape, 1, inner.length);
            return shape;
        }
        return null;
    }

    static long[] toShape(JsonNode array) {
        if (!array.isArray()) {
            return null;
        }
        long[] shape = new long[array.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = array.get(i).isNumber() ? array.get(i).asLong() : -1;
        }
        return shape;
    }
}

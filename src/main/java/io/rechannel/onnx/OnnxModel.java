package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.ModelGraph;
import io.rechannel.graph.Node;
import io.rechannel.graph.NodeRole;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX graph reduced to the format-independent {@link ModelGraph}. Constants (initializers,
 * Constant nodes, and Identity nodes applied to them, as the TorchScript exporter emits when it
 * shares identical weights) are not graph nodes: they are resolved to the initializer behind them.
 */
public final class OnnxModel {

    private static final Set<String> PER_CHANNEL = Set.of(
            "Identity", "Cast", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
            "Elu", "Selu", "Celu", "Softplus", "Softsign", "Abs", "Neg", "Sqrt", "Exp", "Log", "Erf", "Gelu",
            "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "Pad", "Resize", "Upsample",
            "Dropout", "SpaceToDepth");

    private static final Set<String> ARITHMETIC = Set.of("Add", "Sub", "Mul", "Div");

    private final OnnxFile file;
    private final Map<String, OnnxMl.NodeProto> byId = new HashMap<>();
    private final Map<OnnxMl.NodeProto, String> nodeIds = new java.util.IdentityHashMap<>();
    private final Map<String, String> producer = new HashMap<>();
    private final Map<String, String> constantSource = new HashMap<>();
    private final Map<String, OnnxMl.TensorProto> constantNodes = new HashMap<>();
    private final Map<String, long[]> shapes = new HashMap<>();
    private ModelGraph graph;

    private OnnxModel(OnnxFile file) {
        this.file = file;
    }

    public static OnnxModel of(OnnxFile file) {
        OnnxModel model = new OnnxModel(file);
        model.build();
        return model;
    }

    public OnnxFile file() {
        return file;
    }

    public ModelGraph graph() {
        return graph;
    }

    public OnnxMl.NodeProto node(String id) {
        return byId.get(id);
    }

    /** The id of a node of the graph (its name, or op type and position when it has none); null for constants. */
    public String idOf(OnnxMl.NodeProto node) {
        return nodeIds.get(node);
    }

    /** The initializer (or Constant node output) a tensor name stands for, or null when it is computed. */
    public String constantSource(String tensor) {
        return constantSource.get(tensor);
    }

    /** A constant's value, whether an initializer or the value of a Constant node. */
    public OnnxMl.TensorProto constant(String source) {
        OnnxFile.TensorInfo info = file.initializers().get(source);
        return info != null ? file.tensor(info) : constantNodes.get(source);
    }

    public double[] constantValues(String source) {
        OnnxFile.TensorInfo info = file.initializers().get(source);
        return info != null ? file.values(info) : OnnxTensors.values(constantNodes.get(source), file.path(), null);
    }

    public long[] constantShape(String source) {
        OnnxFile.TensorInfo info = file.initializers().get(source);
        if (info != null) {
            return info.dims();
        }
        return constantNodes.get(source).getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    /** How many node inputs and graph outputs in the whole graph read this constant, directly or through aliases. */
    public int usesOf(String source) {
        int uses = 0;
        for (OnnxMl.ValueInfoProto output : file.outputs()) {
            if (source.equals(constantSource.get(output.getName()))) {
                uses++;
            }
        }
        for (OnnxMl.NodeProto node : file.nodes()) {
            if (isAlias(node)) {
                continue;
            }
            for (String input : node.getInputList()) {
                if (source.equals(constantSource.get(input))) {
                    uses++;
                }
            }
        }
        return uses;
    }

    private boolean isAlias(OnnxMl.NodeProto node) {
        return (node.getOpType().equals("Identity") || node.getOpType().equals("Constant"))
                && node.getOutputCount() == 1 && constantSource.containsKey(node.getOutput(0));
    }

    private void build() {
        for (String name : file.initializers().keySet()) {
            constantSource.put(name, name);
        }
        for (OnnxMl.ValueInfoProto info : file.valueInfos()) {
            shapes.put(info.getName(), shape(info));
        }
        List<Node> nodes = new ArrayList<>();
        for (OnnxMl.ValueInfoProto input : file.inputs()) {
            if (!constantSource.containsKey(input.getName())) {
                long[] shape = shape(input);
                shapes.put(input.getName(), shape);
                nodes.add(Node.input(input.getName(), shape, guessLayout(shape)));
                producer.put(input.getName(), input.getName());
            }
        }
        Set<String> ids = new HashSet<>();
        int index = 0;
        for (OnnxMl.NodeProto node : file.nodes()) {
            index++;
            if (node.getOpType().equals("Constant") && node.getOutputCount() == 1) {
                for (OnnxMl.AttributeProto a : node.getAttributeList()) {
                    if (a.getName().equals("value") && a.hasT()) {
                        constantNodes.put(node.getOutput(0), a.getT());
                        constantSource.put(node.getOutput(0), node.getOutput(0));
                    }
                }
                continue;
            }
            if (node.getOpType().equals("Identity") && node.getInputCount() == 1 && constantSource.containsKey(node.getInput(0))) {
                constantSource.put(node.getOutput(0), constantSource.get(node.getInput(0)));
                continue;
            }
            String id = node.getName().isEmpty() || !ids.add(node.getName()) ? node.getOpType() + "_" + index : node.getName();
            ids.add(id);
            byId.put(id, node);
            nodeIds.put(node, id);
            nodes.add(toNode(id, node));
            for (String output : node.getOutputList()) {
                producer.put(output, id);
            }
        }
        graph = new ModelGraph(nodes);
    }

    private Node toNode(String id, OnnxMl.NodeProto node) {
        List<String> inputs = new ArrayList<>();
        List<long[]> inputShapes = new ArrayList<>();
        List<String> constants = new ArrayList<>();
        for (String input : node.getInputList()) {
            if (input.isEmpty()) {
                continue;
            }
            if (constantSource.containsKey(input)) {
                constants.add(input);
            } else if (producer.containsKey(input)) {
                inputs.add(producer.get(input));
                inputShapes.add(shapeOf(input));
            }
        }
        String op = node.getOpType();
        NodeRole role = NodeRole.OPAQUE;
        ChannelAxis axis = null;
        String refusal = null;
        Integer concatAxis = null;
        int[] permutation = null;
        int group = (int) attribute(node, "group", 1);
        switch (op) {
            case "Conv", "ConvTranspose" -> {
                if (node.getInputCount() > 1 && constantSource.containsKey(node.getInput(1))) {
                    role = NodeRole.MIXES_CHANNELS;
                    axis = ChannelAxis.FIRST;
                    if (group != 1) {
                        refusal = "its group=" + group + " splits the channels into separate convolutions; the new channel"
                                + " count would have to divide into the same groups and no channel may mix across them";
                    }
                }
            }
            case "Gemm" -> {
                if (node.getInputCount() > 1 && constantSource.containsKey(node.getInput(1))
                        && attribute(node, "transA", 0) == 0) {
                    role = NodeRole.MIXES_CHANNELS;
                    axis = ChannelAxis.LAST;
                }
            }
            case "MatMul" -> {
                if (node.getInputCount() > 1 && constantSource.containsKey(node.getInput(1))) {
                    role = NodeRole.MIXES_CHANNELS;
                    axis = ChannelAxis.LAST;
                }
            }
            case "BatchNormalization", "InstanceNormalization" -> {
                role = NodeRole.PER_CHANNEL_CONSTANTS;
                axis = ChannelAxis.FIRST;
            }
            case "Softmax", "LogSoftmax", "LRN", "LayerNormalization" -> {
                role = NodeRole.MIXES_CHANNELS;
                refusal = "it normalises across channels, which is not linear";
            }
            case "Transpose" -> {
                role = NodeRole.TRANSPOSE;
                permutation = node.getAttributeList().stream().filter(a -> a.getName().equals("perm")).findFirst()
                        .map(a -> a.getIntsList().stream().mapToInt(Long::intValue).toArray()).orElse(null);
            }
            case "Shape", "Size" -> role = NodeRole.DIMENSIONS;
            case "Flatten" -> role = attribute(node, "axis", 1) == 1 ? NodeRole.FLATTEN : NodeRole.OPAQUE;
            case "Concat" -> {
                role = NodeRole.CONCAT;
                concatAxis = (int) attribute(node, "axis", 1);
            }
            default -> {
                if (ARITHMETIC.contains(op)) {
                    if (constants.isEmpty()) {
                        role = NodeRole.ELEMENTWISE;
                    } else {
                        long[] shape = constantShape(constantSource.get(constants.get(0)));
                        long count = io.rechannel.core.Shapes.count(shape);
                        role = count == 1 ? NodeRole.PER_CHANNEL : NodeRole.PER_CHANNEL_CONSTANTS;
                        axis = count == 1 ? null : constantAxis(shape, inputShapes.isEmpty() ? null : inputShapes.get(0));
                        if (count > 1 && axis == null) {
                            role = NodeRole.OPAQUE;
                        }
                    }
                } else if (PER_CHANNEL.contains(op)) {
                    role = NodeRole.PER_CHANNEL;
                }
            }
        }
        return new Node(id, op, role, inputs, inputShapes, axis, concatAxis, refusal, permutation);
    }

    /**
     * A tensor's recorded shape; for a convolution's output that has none (exporters seldom record intermediate
     * shapes), its rank and channel count as the weight gives them, other dimensions unknown (-1).
     */
    private long[] shapeOf(String tensor) {
        long[] shape = shapes.get(tensor);
        OnnxMl.NodeProto node = byId.get(producer.get(tensor));
        if (shape != null || node == null || !Set.of("Conv", "ConvTranspose").contains(node.getOpType())
                || node.getInputCount() < 2 || !constantSource.containsKey(node.getInput(1))) {
            return shape;
        }
        long[] weight = constantShape(constantSource.get(node.getInput(1)));
        if (weight.length < 3) {
            return null;
        }
        long[] inferred = new long[weight.length];
        java.util.Arrays.fill(inferred, -1);
        inferred[1] = node.getOpType().equals("Conv") ? weight[0] : weight[1] * attribute(node, "group", 1);
        return inferred;
    }

    /** Where a broadcast constant varies: the one axis of length > 1, counted from the right against the input's rank. */
    static ChannelAxis constantAxis(long[] shape, long[] inputShape) {
        int varying = -1;
        for (int p = 0; p < shape.length; p++) {
            if (shape[p] > 1) {
                if (varying >= 0) {
                    return null;
                }
                varying = p;
            }
        }
        if (varying < 0) {
            return null;
        }
        int fromRight = shape.length - 1 - varying;
        if (fromRight == 0) {
            return ChannelAxis.LAST;
        }
        int rank = inputShape != null ? inputShape.length : Math.max(shape.length, 4);
        return rank - 1 - fromRight == 1 ? ChannelAxis.FIRST : null;
    }

    /** NCHW or NHWC from a declared image shape: channels are the short axis next to the batch or at the end. */
    private static ChannelAxis guessLayout(long[] shape) {
        if (shape == null || shape.length < 3) {
            return null;
        }
        long first = shape[1];
        long last = shape[shape.length - 1];
        if (first > 0 && first <= 16 && (last < 0 || last > 16)) {
            return ChannelAxis.FIRST;
        }
        if (last > 0 && last <= 16 && (first < 0 || first > 16)) {
            return ChannelAxis.LAST;
        }
        return null;
    }

    static long[] shape(OnnxMl.ValueInfoProto info) {
        if (!info.getType().hasTensorType() || !info.getType().getTensorType().hasShape()) {
            return null;
        }
        return info.getType().getTensorType().getShape().getDimList().stream()
                .mapToLong(d -> d.hasDimValue() ? d.getDimValue() : -1).toArray();
    }

    static long attribute(OnnxMl.NodeProto node, String name, long fallback) {
        for (OnnxMl.AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return fallback;
    }
}

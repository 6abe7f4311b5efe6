package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;
import io.rechannel.format.BakedCheck;
import io.rechannel.format.InputContract;
import io.rechannel.format.Verification;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlanVerifier;
import io.rechannel.pipeline.PlannedTensor;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code --bake-preprocessing} for ONNX: {@code Sub} (the means) and {@code Div} (the stds) nodes with per-channel
 * initializers, shaped to broadcast along the input's channel axis ({@code [1, C, 1, 1]} for NCHW), between the
 * graph input and every node that read it. Their names start with {@link #PREFIX} and collide with nothing in
 * the graph; a Sub whose means are all zero or a Div whose stds are all one is left out. Broadcasting Sub/Div
 * need opset 7 or later.
 */
final class OnnxBake {

    static final String PREFIX = "rechannel_preprocessing";

    private final OnnxModel model;
    private final AdaptationPlan plan;
    private final Set<String> names = new HashSet<>();

    OnnxBake(OnnxModel model, AdaptationPlan plan) {
        this.model = model;
        this.plan = plan;
        OnnxFile file = model.file();
        names.addAll(file.initializers().keySet());
        file.inputs().forEach(i -> names.add(i.getName()));
        file.outputs().forEach(o -> names.add(o.getName()));
        file.valueInfos().forEach(v -> names.add(v.getName()));
        for (OnnxMl.NodeProto node : file.nodes()) {
            names.add(node.getName());
            names.addAll(node.getOutputList());
            names.addAll(node.getInputList());
        }
    }

    /** Refuses a model the nodes cannot be put into, before any work. */
    void check() {
        OnnxFile file = model.file();
        String input = plan.dependency().input();
        if (file.opset("") >= 0 && file.opset("") < 7) {
            throw RechannelException.unsupported(file.path() + ": " + OptionName.BAKE + " adds broadcasting Sub/Div nodes,"
                    + " which need opset 7 or later; the model imports opset " + file.opset(""));
        }
        int type = OnnxInputContract.elementType(model, input);
        if (type != OnnxTensors.FLOAT && type != OnnxTensors.DOUBLE && type != OnnxTensors.FLOAT16) {
            throw RechannelException.unsupported(file.path() + ": " + OptionName.BAKE + ": input '" + input + "' has ONNX element"
                    + " type " + type + "; normalising nodes are added for float, double and float16 inputs");
        }
        if (rank() < 1) {
            throw RechannelException.unsupported(file.path() + ": " + OptionName.BAKE + ": input '" + input + "' declares no"
                    + " shape, so the constants cannot be shaped to its channel axis");
        }
    }

    private int rank() {
        return model.graph().node(plan.dependency().input()).declaredShape().map(s -> s.length).orElse(-1);
    }

    /**
     * Adds the nodes and their constants to {@code edits} (the adapted graph) for the contract's mean and std;
     * returns one line per node added, for the contract's {@code inside} list.
     */
    List<String> apply(OnnxEdits edits, InputContract contract) {
        OnnxFile file = model.file();
        String input = plan.dependency().input();
        int type = OnnxInputContract.elementType(model, input);
        int rank = rank();
        long[] dims = new long[rank];
        java.util.Arrays.fill(dims, 1);
        int axis = (plan.dependency().axis() == ChannelAxis.LAST ? ChannelAxis.LAST : ChannelAxis.FIRST).index(rank);
        int channels = contract.channels().size();
        dims[axis] = channels;
        double[] mean = contract.mean().stream().mapToDouble(Double::doubleValue).toArray();
        double[] std = contract.std().stream().mapToDouble(Double::doubleValue).toArray();
        List<OnnxMl.NodeProto> nodes = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        String current = input;
        if (java.util.Arrays.stream(mean).anyMatch(v -> v != 0)) {
            current = add(edits, nodes, "Sub", current, mean, dims, type);
            lines.add(nodes.get(nodes.size() - 1).getName() + " (Sub) " + contract.mean() + " [--bake-preprocessing]");
        }
        if (java.util.Arrays.stream(std).anyMatch(v -> v != 1)) {
            current = add(edits, nodes, "Div", current, std, dims, type);
            lines.add(nodes.get(nodes.size() - 1).getName() + " (Div) " + contract.std() + " [--bake-preprocessing]");
        }
        edits.prepended.addAll(nodes);
        List<OnnxMl.NodeProto> all = file.nodes();
        for (int i = 0; i < all.size(); i++) {
            OnnxMl.NodeProto node = all.get(i);
            for (int k = 0; k < node.getInputCount(); k++) {
                if (node.getInput(k).equals(input)) {
                    edits.nodes.computeIfAbsent(i, x -> node.toBuilder()).setInput(k, current);
                }
            }
        }
        return lines;
    }

    /**
     * Checks the nodes baked into {@code after}, if any (and if {@code before} had none of its own), against the
     * contract the original gives under {@code options}: a check, or a note saying why not.
     */
    static void verify(OnnxModel original, OnnxModel adapted, PlanVerifier.Outcome outcome, AdaptOptions options,
                       Verification verification) {
        AdaptationPlan before = outcome.before();
        AdaptationPlan after = outcome.after();
        ChannelMap map = outcome.map();
        if (OnnxInputContract.bakedNode(adapted, after) == null || OnnxInputContract.bakedNode(original, before) != null) {
            return;
        }
        double[] mean = new double[map.newCount()];
        double[] std = new double[map.newCount()];
        java.util.Arrays.fill(std, 1);
        List<String> nodes = new ArrayList<>();
        for (PlannedTensor constant : after.constants()) {
            OnnxMl.NodeProto node = adapted.node(constant.node());
            String op = node.getOpType();
            if (node.getName().startsWith(PREFIX) && (op.equals("Sub") || op.equals("Div"))) {
                nodes.add(node.getName());
                double[] values = adapted.constantValues(constant.name());
                System.arraycopy(values, 0, op.equals("Sub") ? mean : std, 0, Math.min(values.length, mean.length));
            }
        }
        String where = String.join(", ", nodes);
        if (options.to() == null) {
            verification.note(BakedCheck.unchecked(where, null));
            return;
        }
        InputContract expected = OnnxInputContract.adapted(original, before, map, options);
        if (expected.mean() == null) {
            verification.note(BakedCheck.unchecked(where, expected));
        } else {
            verification.check(BakedCheck.of(where, mean, std, expected));
        }
    }

    private String add(OnnxEdits edits, List<OnnxMl.NodeProto> nodes, String op, String from, double[] values, long[] dims,
                       int type) {
        String base = PREFIX + "_" + op.toLowerCase(java.util.Locale.ROOT);
        String constant = unique(base + "_constant");
        String output = unique(base + "_output");
        OnnxMl.TensorProto.Builder header = OnnxMl.TensorProto.newBuilder().setName(constant).setDataType(type);
        for (long d : dims) {
            header.addDims(d);
        }
        edits.added.add(ChangedTensor.of(header.build(), dims, values, model.file().path()));
        nodes.add(OnnxMl.NodeProto.newBuilder().setName(unique(base)).setOpType(op).addInput(from).addInput(constant)
                .addOutput(output).build());
        return output;
    }

    private String unique(String name) {
        String candidate = name;
        for (int k = 1; !names.add(candidate); k++) {
            candidate = name + "_" + k;
        }
        return candidate;
    }
}

package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.pipeline.AdaptationPlan;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What the nodes between an ONNX model's input and its adapted layers do to each channel, when that is a
 * per-channel affine map (normalisation, casts, transposes): the runtime check feeds the original the input that
 * gives its first layers what the adapted model's first layers get.
 */
final class OnnxAffinePath {

    private static final Set<String> AFFINE_PATH = Set.of(
            "Identity", "Cast", "Transpose", "Flatten", "Sub", "Add", "Mul", "Div", "BatchNormalization");

    private OnnxAffinePath() {
    }

    /**
     * The per-channel affine map x_c → a_c·x_c + b_c that the nodes between the input and the adapted
     * layers apply ({a, b}), or null when they do anything else (or branch).
     */
    static double[][] of(OnnxModel model, AdaptationPlan plan, int channels) {
        double[] a = new double[channels];
        double[] b = new double[channels];
        Arrays.fill(a, 1);
        if (plan.dependency().consumers().size() > 1 && !plan.dependency().constants().isEmpty()) {
            return null;
        }
        // a concatenation places the input beside what the adapted layers made of it: exact on Mᵀx' as long as
        // nothing else acts on the way (each concatenated copy could have been preprocessed differently)
        List<String> ops = plan.dependency().tensors().keySet().stream().map(model::node).filter(Objects::nonNull)
                .map(OnnxMl.NodeProto::getOpType).toList();
        boolean concatenates = ops.contains("Concat");
        if (concatenates && !Set.of("Identity", "Cast", "Concat").containsAll(ops)) {
            return null;
        }
        for (String id : plan.dependency().tensors().keySet()) {
            OnnxMl.NodeProto node = model.node(id);
            if (node == null) {
                continue; // the input itself
            }
            String op = node.getOpType();
            if (!AFFINE_PATH.contains(op) && !op.equals("Concat")) {
                return null;
            }
            if (op.equals("BatchNormalization")) {
                double[] scale = perChannel(model, node.getInput(1), channels);
                double[] bias = perChannel(model, node.getInput(2), channels);
                double[] mean = perChannel(model, node.getInput(3), channels);
                double[] var = perChannel(model, node.getInput(4), channels);
                double eps = node.getAttributeList().stream().filter(x -> x.getName().equals("epsilon")).findFirst()
                        .map(x -> (double) x.getF()).orElse(1e-5);
                if (scale == null || bias == null || mean == null || var == null) {
                    return null;
                }
                for (int c = 0; c < channels; c++) {
                    double k = scale[c] / Math.sqrt(var[c] + eps);
                    b[c] = (b[c] - mean[c]) * k + bias[c];
                    a[c] *= k;
                }
            } else if (Set.of("Sub", "Add", "Mul", "Div").contains(op)) {
                boolean constantFirst = model.constantSource(node.getInput(0)) != null;
                double[] v = perChannel(model, node.getInput(constantFirst ? 0 : 1), channels);
                if (v == null || constantFirst && op.equals("Div")) {
                    return null;
                }
                for (int c = 0; c < channels; c++) {
                    switch (op) {
                        case "Add" -> b[c] += v[c];
                        case "Sub" -> {
                            if (constantFirst) {
                                a[c] = -a[c];
                                b[c] = v[c] - b[c];
                            } else {
                                b[c] -= v[c];
                            }
                        }
                        case "Mul" -> {
                            a[c] *= v[c];
                            b[c] *= v[c];
                        }
                        default -> {
                            a[c] /= v[c];
                            b[c] /= v[c];
                        }
                    }
                }
            }
        }
        return new double[][] {a, b};
    }

    /** A constant's value for each channel (a scalar repeats), or null when it is not a constant of that size. */
    private static double[] perChannel(OnnxModel model, String tensor, int channels) {
        String source = model.constantSource(tensor);
        if (source == null) {
            return null;
        }
        double[] values = model.constantValues(source);
        if (values.length == 1) {
            double[] repeated = new double[channels];
            Arrays.fill(repeated, values[0]);
            return repeated;
        }
        return values.length == channels ? values : null;
    }
}

package io.rechannel.keras;

import io.rechannel.format.TensorRole;
import io.rechannel.graph.ModelGraph;
import io.rechannel.graph.Node;

import java.util.Optional;
import java.util.Set;

/**
 * The role of a Keras variable, from its layer's class and its variable name: convolution kernels are
 * (…spatial, in, out), depthwise kernels (…spatial, in, multiplier), dense kernels (in, out). A dense
 * kernel behind a {@code Flatten} of a spatial feature map has rows in (…position, channel) order, which
 * only another channels-last model shares. Without a config (a weights-only file) the class is unknown
 * and the role is told from the variable's name and rank. Keras 1 kernels in Theano ordering are left as
 * plain tensors: their layout and orientation depend on the backend that trained them.
 */
final class KerasRoles {

    /** Layers between a flatten and a dense layer that change no element's position. */
    private static final Set<String> PASS_THROUGH = Set.of("Dropout", "Activation", "ReLU", "LeakyReLU",
            "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout");

    private KerasRoles() {
    }

    static TensorRole of(KerasModelView model, KerasLayer layer, KerasWeight weight) {
        String cls = layer.className();
        int rank = weight.shape().length;
        boolean unknown = cls.isEmpty();
        if (cls.equals("BatchNormalization") || unknown && weight.name().startsWith("moving_")) {
            return batchNormalization(weight.name());
        }
        return switch (weight.name()) {
            case "depthwise_kernel" -> TensorRole.DEPTHWISE_HWIM;
            case "pointwise_kernel" -> TensorRole.CONV_HWIO;
            case "kernel" -> kernel(model, layer, rank);
            case "bias" -> rank == 1 && (unknown || cls.startsWith("Conv") || cls.startsWith("DepthwiseConv")
                    || cls.startsWith("SeparableConv") || cls.equals("Dense")) && !cls.contains("Transpose")
                    ? TensorRole.BIAS : TensorRole.OTHER;
            case "gamma", "beta" -> unknown ? batchNormalization(weight.name()) : TensorRole.OTHER;
            default -> TensorRole.OTHER;
        };
    }

    private static TensorRole batchNormalization(String variable) {
        return switch (variable) {
            case "gamma" -> TensorRole.BN_GAMMA;
            case "beta" -> TensorRole.BN_BETA;
            case "moving_mean" -> TensorRole.BN_MEAN;
            case "moving_variance" -> TensorRole.BN_VARIANCE;
            default -> TensorRole.OTHER;
        };
    }

    private static TensorRole kernel(KerasModelView model, KerasLayer layer, int rank) {
        String cls = layer.className();
        if (cls.contains("Transpose")) {
            return TensorRole.OTHER; // (…spatial, out, in): no counterpart is laid out alike
        }
        if (layer.config().path("dim_ordering").asText("").equals("th")) {
            // Keras 1 Theano ordering: (out, in, rows, cols), and flipped where Theano ran it; copied only as it is
            return TensorRole.OTHER;
        }
        if (cls.startsWith("DepthwiseConv")) {
            return TensorRole.DEPTHWISE_HWIM;
        }
        if ((cls.startsWith("Conv") || cls.isEmpty()) && rank >= 3 && rank <= 5) {
            return TensorRole.CONV_HWIO;
        }
        if ((cls.equals("Dense") || cls.isEmpty()) && rank == 2) {
            return model.hasConfig() && readsFlattenedMap(model.graph(), layer)
                    ? TensorRole.DENSE_IN_OUT_FLATTENED : TensorRole.DENSE_IN_OUT;
        }
        return TensorRole.OTHER;
    }

    /** True when the layer reads a {@code Flatten} or {@code Reshape} of a map with several positions (or an unknown one). */
    private static boolean readsFlattenedMap(KerasModelGraph model, KerasLayer layer) {
        ModelGraph graph = model.graph();
        Optional<Node> node = node(graph, layer.path());
        while (node.isPresent() && !node.get().inputs().isEmpty()) {
            Node before = node(graph, node.get().inputs().get(0)).orElse(null);
            KerasLayer previous = before == null ? null : model.layer(before.id());
            if (previous == null) {
                return false;
            }
            if (previous.className().equals("Flatten") || previous.className().equals("Reshape")) {
                long[] shape = before.inputShape(0).orElse(null);
                if (shape == null) {
                    return true;
                }
                long positions = 1;
                for (int d = 1; d < shape.length - 1; d++) {
                    positions *= shape[d] < 1 ? 2 : shape[d]; // an unknown size counts as several
                }
                return positions > 1;
            }
            if (!PASS_THROUGH.contains(previous.className())) {
                return false;
            }
            node = Optional.of(before);
        }
        return false;
    }

    private static Optional<Node> node(ModelGraph graph, String id) {
        try {
            return Optional.of(graph.node(id));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}

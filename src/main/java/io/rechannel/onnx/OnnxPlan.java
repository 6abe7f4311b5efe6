package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Shapes;
import io.rechannel.core.Statistic;
import io.rechannel.graph.ChannelAnalysis;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.ChannelDependency;
import io.rechannel.graph.ChannelPlanning;
import io.rechannel.graph.Consumer;
import io.rechannel.graph.Segment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The constants of an ONNX model that depend on one input's channels, each with the view of its
 * channel axis: weights of the layers that mix channels, and per-channel constants in front of them.
 *
 * @param weights   consumer weights (Conv/ConvTranspose W, Gemm/MatMul B), mixed by the channel map
 * @param constants per-channel constants (BatchNormalization statistics, Sub/Div/Mul/Add operands), re-indexed
 */
record OnnxPlan(OnnxModel model, ChannelDependency dependency, int channels, List<Use> weights, List<Use> constants) {

    /**
     * One constant read by one node: the node, its input position, the constant (initializer or
     * Constant output) behind it, and the view of its channel axis.
     *
     * @param dim the dimension of the constant's shape holding the channel axis
     */
    public record Use(Consumer consumer, OnnxMl.NodeProto node, int input, String source, AxisView view, int dim,
                      String role, Statistic statistic) {
    }

    public static OnnxPlan of(OnnxModel model, AdaptOptions options, String source) {
        ChannelAnalysis analysis = new ChannelAnalysis(model.graph(), options.channelIndependent(), source, ChannelAxis.FIRST);
        ChannelPlanning.AnalysedInput analysed = ChannelPlanning.analyse(analysis, options.input(), true,
                consumer -> weightUse(model, consumer, 1, source).view().axisLength(), source);
        ChannelDependency dependency = analysed.dependency();
        int channels = analysed.channels();
        OnnxShapeReaders.check(model, dependency, source);
        List<Use> weights = new ArrayList<>();
        for (Consumer consumer : dependency.consumers()) {
            weights.add(weightUse(model, consumer, channels, source));
        }
        List<Use> constants = new ArrayList<>();
        for (Consumer consumer : dependency.constants()) {
            OnnxMl.NodeProto node = model.node(consumer.node().id());
            for (int k = 0; k < node.getInputCount(); k++) {
                String constant = model.constantSource(node.getInput(k));
                if (constant == null) {
                    continue;
                }
                long[] dims = model.constantShape(constant);
                if (Shapes.count(dims) <= 1) {
                    continue;
                }
                int dim = dims.length == 1 ? 0 : indexOfChannel(dims, consumer.segment());
                String what = source + ": node '" + consumer.node().id() + "' constant '" + constant + "'";
                AxisView view = fitted(() -> ChannelPlanning.span(AxisView.of(dims, dim), consumer, channels, what),
                        source, consumer, constant, dims, channels);
                constants.add(new Use(consumer, node, k, constant, view, dim,
                        node.getOpType() + (node.getOpType().equals("BatchNormalization") ? "." + k : ""), null));
            }
        }
        Statistics statistics = new Statistics(constants);
        List<Use> withStatistics = constants.stream().map(u -> new Use(u.consumer(), u.node(), u.input(), u.source(),
                u.view(), u.dim(), u.role(), statistics.of(u.node(), u.input()))).toList();
        return new OnnxPlan(model, dependency, channels, weights, withStatistics);
    }

    /**
     * Which constants take the user's statistics for new channels: those of the first normalisation, a Sub (the
     * mean) with the first Div or Mul after it (the spread), or a BatchNormalization, whichever comes first.
     */
    private static final class Statistics {
        private final OnnxMl.NodeProto firstSub;
        private final OnnxMl.NodeProto firstSpread;
        private final OnnxMl.NodeProto firstBatchNorm;

        Statistics(List<Use> constants) {
            List<OnnxMl.NodeProto> nodes = constants.stream().map(Use::node).toList();
            OnnxMl.NodeProto first = nodes.stream()
                    .filter(n -> n.getOpType().equals("Sub") || n.getOpType().equals("BatchNormalization"))
                    .findFirst().orElse(null);
            boolean sub = first != null && first.getOpType().equals("Sub");
            firstSub = sub ? first : null;
            firstSpread = sub ? nodes.stream().filter(n -> n.getOpType().equals("Div") || n.getOpType().equals("Mul"))
                    .findFirst().orElse(null) : null;
            firstBatchNorm = sub ? null : first;
        }

        Statistic of(OnnxMl.NodeProto node, int input) {
            if (node == firstSub) {
                return Statistic.MEAN;
            }
            if (node == firstSpread) {
                return node.getOpType().equals("Div") ? Statistic.STD : Statistic.INVERSE_STD;
            }
            if (node == firstBatchNorm) {
                return input == 3 ? Statistic.MEAN : input == 4 ? Statistic.VARIANCE : null;
            }
            return null;
        }
    }

    private static int indexOfChannel(long[] dims, Segment segment) {
        for (int p = 0; p < dims.length; p++) {
            if (dims[p] > 1) {
                return p;
            }
        }
        return segment.axis() == ChannelAxis.LAST ? dims.length - 1 : Math.max(0, dims.length - 3);
    }

    /**
     * A kernel must have the rank its operator defines (Conv/ConvTranspose: output and input channels and at
     * least one spatial axis; Gemm: 2; MatMul: at least 1) and no empty axis: a layer without weights reads
     * no channels, and the arithmetic on its shape would divide by zero.
     */
    private static void checkKernel(String op, long[] dims, Consumer consumer, String weight, String source) {
        int rank = switch (op) {
            case "Conv", "ConvTranspose" -> 3;
            case "Gemm" -> 2;
            default -> 1;
        };
        String which = source + ": node '" + consumer.node().id() + "' (" + op + ") weight '" + weight + "' has dims "
                + Arrays.toString(dims);
        if (dims.length < rank || op.equals("Gemm") && dims.length != 2) {
            throw RechannelException.malformed(which + "; " + op + " needs a weight of rank "
                    + (op.equals("Gemm") ? "2" : rank + " or more"));
        }
        for (long d : dims) {
            if (d == 0) {
                throw RechannelException.malformed(which + ", an empty axis; the layer would have no weights");
            }
        }
    }

    /** The weight of a layer that mixes channels, viewed along its input-channel axis. */
    private static Use weightUse(OnnxModel model, Consumer consumer, int channels, String source) {
        OnnxMl.NodeProto node = model.node(consumer.node().id());
        String op = node.getOpType();
        String weight = model.constantSource(node.getInput(1));
        long[] dims = model.constantShape(weight);
        checkKernel(op, dims, consumer, weight, source);
        return fitted(() -> weightView(node, weight, dims, consumer, channels, source), source, consumer, weight, dims,
                channels);
    }

    /**
     * A constant's channel view; a constant narrower than the channels the model feeds it (a declared input
     * shape that disagrees with the weights) is malformed.
     */
    private static <T> T fitted(Supplier<T> view, String source, Consumer consumer,
                                   String constant, long[] dims, int channels) {
        try {
            return view.get();
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw RechannelException.malformed(source + ": node '" + consumer.node().id() + "' reads '" + constant + "' of dims "
                    + Arrays.toString(dims) + ", which does not fit the " + channels + " channels the model feeds it"
                    + (consumer.segment().offset() > 0 ? " at offset " + consumer.segment().offset() : ""));
        }
    }

    private static Use weightView(OnnxMl.NodeProto node, String weight, long[] dims, Consumer consumer, int channels,
                                  String source) {
        String op = node.getOpType();
        String what = source + ": node '" + consumer.node().id() + "'";
        if (op.equals("Conv") || op.equals("ConvTranspose")) {
            int dim = op.equals("Conv") ? 1 : 0;
            return new Use(consumer, node, 1, weight, ChannelPlanning.span(AxisView.of(dims, dim), consumer, channels, what),
                    dim, op, null);
        }
        // Gemm (B is N×K with transB, else K×N) and MatMul (K×N): K may fold positions with channels
        boolean transposed = op.equals("Gemm") && OnnxModel.attribute(node, "transB", 0) == 1;
        if (dims.length != 2) {
            throw RechannelException.unsupported(source + ": node '" + consumer.node().id() + "' (" + op
                    + ") has a weight of rank " + dims.length + "; rechannel adapts 2-D MatMul weights");
        }
        int dim = transposed ? 1 : 0;
        long k = dims[dim];
        long n = dims[1 - dim];
        AxisView view = consumer.segment().flattened()
                ? ChannelPlanning.flattenedDense(k, n, transposed, consumer, channels, what)
                : ChannelPlanning.span(transposed ? AxisView.whole(n, (int) k, 1) : AxisView.whole(1, (int) k, n),
                        consumer, channels, what);
        return new Use(consumer, node, 1, weight, view, dim, op, null);
    }
}

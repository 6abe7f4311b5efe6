package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.RechannelException;
import io.rechannel.graph.ChannelAnalysis;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.ChannelDependency;
import io.rechannel.graph.Consumer;
import io.rechannel.graph.Node;
import io.rechannel.graph.Segment;

import java.util.ArrayList;
import java.util.List;

/**
 * The constants of an ONNX model that depend on one input's channels, each with the view of its
 * channel axis: weights of the layers that mix channels, and per-channel constants in front of them.
 *
 * @param weights   consumer weights (Conv/ConvTranspose W, Gemm/MatMul B), mixed by the channel map
 * @param constants per-channel constants (BatchNormalization statistics, Sub/Div/Mul/Add operands), re-indexed
 */
public record OnnxPlan(OnnxModel model, ChannelDependency dependency, int channels, List<Use> weights, List<Use> constants) {

    /**
     * One constant read by one node: the node, its input position, the constant (initializer or
     * Constant output) behind it, and the view of its channel axis.
     *
     * @param dim the dimension of the constant's shape holding the channel axis
     */
    public record Use(Consumer consumer, OnnxMl.NodeProto node, int input, String source, AxisView view, int dim,
                      String role) {
    }

    public static OnnxPlan of(OnnxModel model, AdaptOptions options, String source) {
        ChannelAnalysis analysis = new ChannelAnalysis(model.graph(), options.channelIndependent(), source, ChannelAxis.FIRST);
        Node input = analysis.chooseInput(options.input());
        ChannelDependency first = analysis.analyse(input, -1);
        long[] shape = input.declaredShape().orElse(null);
        int channels = -1;
        if (shape != null && shape.length >= 2) {
            long c = shape[first.axis().index(shape.length)];
            channels = c > 0 ? (int) c : -1;
        }
        List<Use> weights = new ArrayList<>();
        if (channels < 0) {
            // the first layer reading the input itself (not a concatenation, not a flatten) has its channel count
            Consumer consumer = first.consumers().stream()
                    .filter(c -> c.segment().offset() == 0 && c.segment().slices() == 1 && !c.segment().flattened())
                    .findFirst().orElseThrow(() -> RechannelException.unsupported(source
                            + ": the model does not declare how many channels input '" + input.id() + "' has"));
            channels = weightUse(model, consumer, 1, source).view().axisLength();
        }
        ChannelDependency dependency = analysis.analyse(input, channels);
        OnnxShapeReaders.check(model, dependency, source);
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
                if (io.rechannel.core.Shapes.count(dims) <= 1) {
                    continue;
                }
                int dim = dims.length == 1 ? 0 : indexOfChannel(dims, consumer.segment());
                AxisView whole = AxisView.of(dims, dim);
                constants.add(new Use(consumer, node, k, constant, spanView(whole, consumer, channels, source),
                        dim, node.getOpType() + (node.getOpType().equals("BatchNormalization") ? "." + k : "")));
            }
        }
        return new OnnxPlan(model, dependency, channels, weights, constants);
    }

    private static int indexOfChannel(long[] dims, Segment segment) {
        for (int p = 0; p < dims.length; p++) {
            if (dims[p] > 1) {
                return p;
            }
        }
        return segment.axis() == ChannelAxis.LAST ? dims.length - 1 : Math.max(0, dims.length - 3);
    }

    /** The weight of a layer that mixes channels, viewed along its input-channel axis. */
    private static Use weightUse(OnnxModel model, Consumer consumer, int channels, String source) {
        OnnxMl.NodeProto node = model.node(consumer.node().id());
        String op = node.getOpType();
        String weight = model.constantSource(node.getInput(1));
        long[] dims = model.constantShape(weight);
        Segment segment = consumer.segment();
        int dim;
        AxisView view;
        switch (op) {
            case "Conv", "ConvTranspose" -> {
                dim = op.equals("Conv") ? 1 : 0;
                AxisView whole = AxisView.of(dims, dim);
                view = spanView(whole, consumer, channels, source);
            }
            default -> {
                // Gemm (B is N×K with transB, else K×N) and MatMul (K×N): K may fold positions with channels
                boolean transposed = op.equals("Gemm") && OnnxModel.attribute(node, "transB", 0) == 1;
                if (dims.length != 2) {
                    throw RechannelException.unsupported(source + ": node '" + consumer.node().id() + "' (" + op
                            + ") has a weight of rank " + dims.length);
                }
                dim = transposed ? 1 : 0;
                long k = dims[dim];
                long n = dims[1 - dim];
                int total = segment.total() > 0 ? segment.total() : channels;
                if (segment.flattened()) {
                    if (k % total != 0) {
                        throw RechannelException.malformed(source + ": node '" + consumer.node().id() + "' has " + k
                                + " input features, not a multiple of the " + total + " channels it flattens");
                    }
                    long positions = k / total;
                    boolean channelsFastest = segment.axis() == ChannelAxis.LAST;
                    if (transposed) {
                        view = spanView(channelsFastest ? AxisView.whole(n * positions, total, 1)
                                : AxisView.whole(n, total, positions), consumer, channels, source);
                    } else {
                        view = spanView(channelsFastest ? AxisView.whole(positions, total, n)
                                : AxisView.whole(1, total, positions * n), consumer, channels, source);
                    }
                } else {
                    view = spanView(transposed ? AxisView.whole(n, (int) k, 1) : AxisView.whole(1, (int) k, n),
                            consumer, channels, source);
                }
            }
        }
        return new Use(consumer, node, 1, weight, view, dim, op);
    }

    /** The span of a consumer's slices of the input channels on a whole axis. */
    private static AxisView spanView(AxisView whole, Consumer consumer, int channels, String source) {
        Segment segment = consumer.segment();
        if (segment.offset() < 0 || segment.offset() + segment.span(channels) > whole.axisLength()) {
            throw RechannelException.malformed(source + ": node '" + consumer.node().id() + "' has " + whole.axisLength()
                    + " input channels, too few for the input's " + channels + " at " + segment.offsets());
        }
        return new AxisView(whole.outer(), whole.axisLength(), whole.inner(), segment.offset(), segment.span(channels));
    }
}

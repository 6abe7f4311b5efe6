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
            if (c > Integer.MAX_VALUE) {
                throw RechannelException.malformed(source + ": input '" + input.id() + "' declares " + c + " channels");
            }
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
                int c = channels;
                AxisView view = fitted(() -> spanView(AxisView.of(dims, dim), consumer, c, source),
                        source, consumer, constant, dims, channels);
                constants.add(new Use(consumer, node, k, constant, view,
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
                + java.util.Arrays.toString(dims);
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
    private static <T> T fitted(java.util.function.Supplier<T> view, String source, Consumer consumer,
                                   String constant, long[] dims, int channels) {
        try {
            return view.get();
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw RechannelException.malformed(source + ": node '" + consumer.node().id() + "' reads '" + constant + "' of dims "
                    + java.util.Arrays.toString(dims) + ", which does not fit the " + channels + " channels the model feeds it"
                    + (consumer.segment().offset() > 0 ? " at offset " + consumer.segment().offset() : ""));
        }
    }

    private static Use weightView(OnnxMl.NodeProto node, String weight, long[] dims, Consumer consumer, int channels,
                                  String source) {
        String op = node.getOpType();
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
                            + ") has a weight of rank " + dims.length + "; rechannel adapts 2-D MatMul weights");
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

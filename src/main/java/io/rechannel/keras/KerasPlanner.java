package io.rechannel.keras;

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
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** Finds, in a Keras model, every variable and config value that depends on one input's channels. */
public final class KerasPlanner {

    private static final Set<String> CONSTANT_VARIABLES = Set.of(
            "mean", "variance", "gamma", "beta", "moving_mean", "moving_variance");

    private final KerasModelGraph model;
    private final KerasWeightStore store;
    private final String source;
    private final boolean channelsFromWeights;

    public KerasPlanner(KerasModelGraph model, KerasWeightStore store, String source) {
        this(model, store, source, false);
    }

    /** With {@code channelsFromWeights}, the input's channel count is read from the first kernel, not the config. */
    public KerasPlanner(KerasModelGraph model, KerasWeightStore store, String source, boolean channelsFromWeights) {
        this.model = model;
        this.store = store;
        this.source = source;
        this.channelsFromWeights = channelsFromWeights;
    }

    public static KerasPlanner of(KerasModelView view, String source) {
        return new KerasPlanner(view.graph(), view.store(), source, view.configFromElsewhere());
    }

    public KerasPlan plan(AdaptOptions options) {
        ChannelAnalysis analysis = new ChannelAnalysis(model.graph(), options.channelIndependent(), source);
        Node input = analysis.chooseInput(options.input());
        ChannelDependency first = analysis.analyse(input, -1);
        int channels = channelsFromWeights ? -1 : declaredChannels(input, first.axis());
        if (channels < 0) {
            channels = channelsFromFirstConsumer(first);
        }
        ChannelDependency dependency = analysis.analyse(input, channels);
        List<KerasPlan.ViewedWeight> mixed = new ArrayList<>();
        for (Consumer consumer : dependency.consumers()) {
            if (model.layer(consumer.node().id()).className().startsWith("SeparableConv")) {
                mixed.addAll(separableKernels(consumer, channels));
            } else {
                mixed.add(consumerKernel(consumer, channels));
            }
        }
        List<KerasPlan.ViewedWeight> constants = new ArrayList<>();
        List<KerasPlan.ConfigList> lists = new ArrayList<>();
        for (Consumer consumer : dependency.constants()) {
            KerasLayer layer = model.layer(consumer.node().id());
            for (KerasWeight weight : store.weightsOf(layer)) {
                if (CONSTANT_VARIABLES.contains(weight.name())) {
                    requireShape(layer, weight, 0);
                    int dim = constantDim(weight, consumer.segment());
                    constants.add(new KerasPlan.ViewedWeight(consumer, layer, weight,
                            constantView(weight, dim, consumer.segment(), channels, layer), dim));
                }
            }
            for (String key : List.of("scale", "offset", "mean", "variance")) {
                // a borrowed config's lists describe another file's model
                if (layer.config().path(key).isArray() && !channelsFromWeights) {
                    int size = layer.config().path(key).size();
                    if (size != consumer.segment().total() && consumer.segment().total() > 0) {
                        throw RechannelException.malformed(source + ": layer '" + layer.path() + "' has " + size
                                + " values in '" + key + "' for " + consumer.segment().total() + " channels");
                    }
                    lists.add(new KerasPlan.ConfigList(consumer, layer, key));
                }
            }
        }
        return new KerasPlan(model, dependency, channels, mixed, constants, lists);
    }

    private static int declaredChannels(Node input, ChannelAxis axis) {
        long[] shape = input.declaredShape().orElse(null);
        if (shape == null || shape.length < 2) {
            return -1;
        }
        long value = shape[axis.index(shape.length)];
        return value > 0 ? (int) value : -1;
    }

    /** The input-channel count of the first layer reading the input itself (not a concatenation, not a flatten). */
    private int channelsFromFirstConsumer(ChannelDependency dependency) {
        Consumer consumer = dependency.consumers().stream()
                .filter(c -> c.segment().offset() == 0 && c.segment().slices() == 1 && !c.segment().flattened())
                .findFirst().orElseThrow(() -> RechannelException.unsupported(source
                        + ": the model does not declare how many channels input '" + dependency.input() + "' has"));
        KerasWeight kernel = kernelOf(consumer);
        return Math.toIntExact(kernel.shape()[kernelChannelDim(model.layer(consumer.node().id()), kernel)]);
    }

    private KerasWeight kernelOf(Consumer consumer) {
        KerasLayer layer = model.layer(consumer.node().id());
        List<KerasWeight> weights = store.weightsOf(layer);
        String wanted = layer.className().startsWith("SeparableConv") ? "depthwise_kernel" : "kernel";
        KerasWeight kernel = weights.stream().filter(w -> w.name().equals(wanted)).findFirst().orElseThrow(() ->
                RechannelException.malformed(source + ": layer '" + layer.path() + "' (" + layer.className()
                        + ") reads the input but its '" + wanted + "' variable is not in the file"));
        requireShape(layer, kernel, layer.className().equals("Dense") || consumer.segment().flattened() ? 2 : 3);
        return kernel;
    }

    /**
     * A variable the adaptation reshapes must have the rank its layer gives it and no empty axis; a
     * damaged or crafted file can declare anything.
     */
    private void requireShape(KerasLayer layer, KerasWeight weight, int minimumRank) {
        long[] shape = weight.shape();
        boolean empty = Arrays.stream(shape).anyMatch(d -> d < 1);
        boolean wide = Arrays.stream(shape).anyMatch(d -> d > Integer.MAX_VALUE);
        if (shape.length < minimumRank || empty || wide) {
            throw RechannelException.malformed(source + ": dataset " + weight.path() + " (the '" + weight.name()
                    + "' of layer '" + layer.path() + "', " + layer.className() + ") has the shape " + Arrays.toString(shape)
                    + (empty ? ", with an empty axis" : wide ? ", with an axis too long for any real layer"
                    : "; it needs at least " + minimumRank + " dimensions"));
        }
    }

    /** The kernel dimension that indexes input channels. */
    private static int kernelChannelDim(KerasLayer layer, KerasWeight kernel) {
        int rank = kernel.shape().length;
        if (layer.className().equals("Dense")) {
            return 0;
        }
        if (KerasLayerKinds.isTranspose(layer.className())) {
            return rank - 1;
        }
        if (layer.config().path("dim_ordering").asText("").equals("th")) {
            return 1; // Theano kernels are (out, in, rows, cols)
        }
        return rank - 2;
    }

    private KerasPlan.ViewedWeight consumerKernel(Consumer consumer, int channels) {
        KerasLayer layer = model.layer(consumer.node().id());
        KerasWeight kernel = kernelOf(consumer);
        Segment segment = consumer.segment();
        long[] shape = kernel.shape();
        int dim = kernelChannelDim(layer, kernel);
        AxisView view;
        if (segment.flattened()) {
            long rows = shape[0];
            long out = shape.length > 1 ? shape[1] : 1;
            int total = segment.total() > 0 ? segment.total() : channels;
            if (rows % total != 0) {
                throw RechannelException.malformed(source + ": layer '" + layer.path() + "' has " + rows
                        + " input features, not a multiple of the " + total + " channels it flattens");
            }
            checkSpan(layer, shape, total, segment, channels);
            view = segment.axis() == ChannelAxis.LAST
                    ? new AxisView(rows / total, total, out, segment.offset(), segment.span(channels))
                    : new AxisView(1, total, (rows / total) * out, segment.offset(), segment.span(channels));
        } else {
            if (layer.className().equals("Dense") && segment.axis() == ChannelAxis.FIRST) {
                throw RechannelException.unsupported(source + ": layer '" + layer.path()
                        + "' (Dense) acts on the last axis but the input's channels come first");
            }
            AxisView whole = AxisView.of(shape, dim);
            int total = segment.total() > 0 ? segment.total() : whole.axisLength();
            if (whole.axisLength() != total) {
                throw RechannelException.malformed(source + ": layer '" + layer.path() + "' kernel " + Arrays.toString(shape)
                        + " has " + whole.axisLength() + " input channels where the model feeds it " + total);
            }
            checkSpan(layer, shape, total, segment, channels);
            view = new AxisView(whole.outer(), whole.axisLength(), whole.inner(), segment.offset(), segment.span(channels));
        }
        return new KerasPlan.ViewedWeight(consumer, layer, kernel, view, segment.flattened() ? 0 : dim);
    }

    private void checkSpan(KerasLayer layer, long[] shape, int total, Segment segment, int channels) {
        if (segment.offset() < 0 || segment.offset() + segment.span(channels) > total) {
            throw RechannelException.malformed(source + ": layer '" + layer.path() + "' kernel " + Arrays.toString(shape)
                    + " has " + total + " input channels, too few for the input's " + channels + " at " + segment.offsets());
        }
    }

    private static int constantDim(KerasWeight weight, Segment segment) {
        int rank = weight.shape().length;
        return rank <= 1 ? 0 : segment.axis() == ChannelAxis.FIRST ? 1 : rank - 1;
    }

    /**
     * A separable convolution reading the input: its depthwise kernel (k..., C, multiplier) holds one
     * filter per input channel, its pointwise kernel (1..., C·multiplier, out) mixes them. Both change.
     */
    private List<KerasPlan.ViewedWeight> separableKernels(Consumer consumer, int channels) {
        KerasLayer layer = model.layer(consumer.node().id());
        Segment segment = consumer.segment();
        if (segment.offset() != 0 || segment.flattened() || segment.total() > 0 && segment.total() != channels) {
            throw RechannelException.unsupported(source + ": layer '" + layer.path() + "' (" + layer.className()
                    + ") reads the input together with other channels; rechannel cannot adapt that separable layer");
        }
        List<KerasWeight> weights = store.weightsOf(layer);
        KerasWeight depthwise = weights.stream().filter(w -> w.name().equals("depthwise_kernel")).findFirst().orElse(null);
        KerasWeight pointwise = weights.stream().filter(w -> w.name().equals("pointwise_kernel")).findFirst().orElse(null);
        if (depthwise == null || pointwise == null) {
            throw RechannelException.malformed(source + ": layer '" + layer.path() + "' (" + layer.className()
                    + ") lacks its depthwise_kernel or pointwise_kernel");
        }
        requireShape(layer, depthwise, 3);
        requireShape(layer, pointwise, depthwise.shape().length);
        long[] d = depthwise.shape();
        long[] p = pointwise.shape();
        int rank = d.length;
        if (d[rank - 2] != channels || p[rank - 2] != d[rank - 2] * d[rank - 1]) {
            throw RechannelException.malformed(source + ": layer '" + layer.path() + "' kernels " + Arrays.toString(d)
                    + " and " + Arrays.toString(p) + " do not fit " + channels + " input channels");
        }
        AxisView depthView = AxisView.of(d, rank - 2);
        AxisView pointView = AxisView.whole(1, channels, d[rank - 1] * p[rank - 1]);
        return List.of(
                new KerasPlan.ViewedWeight(consumer, layer, depthwise, depthView, rank - 2, KerasPlan.Mixing.PATTERN),
                new KerasPlan.ViewedWeight(consumer, layer, pointwise, pointView, rank - 2, KerasPlan.Mixing.MAP));
    }

    private AxisView constantView(KerasWeight weight, int dim, Segment segment, int channels, KerasLayer layer) {
        long[] shape = weight.shape();
        AxisView whole = AxisView.of(shape.length == 0 ? new long[] {1} : shape, dim);
        if (whole.axisLength() == 1 && channels > 1) {
            throw RechannelException.unsupported(source + ": layer '" + layer.path() + "' stores one '" + weight.name()
                    + "' for all channels; rechannel expects one per channel");
        }
        if (segment.offset() + segment.span(channels) > whole.axisLength()) {
            throw RechannelException.malformed(source + ": layer '" + layer.path() + "' has " + whole.axisLength() + " '"
                    + weight.name() + "' values, too few for the input's " + channels + " channels at " + segment.offsets());
        }
        return new AxisView(whole.outer(), whole.axisLength(), whole.inner(), segment.offset(), segment.span(channels));
    }
}

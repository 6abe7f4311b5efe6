package io.rechannel.pipeline;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Shapes;
import io.rechannel.core.Statistic;
import io.rechannel.format.TensorRole;
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
 * Plans an adaptation for any format: analyses the graph from the chosen input, finds the input's channel count,
 * and views every tensor that changes along its input-channel axis — kernels (separable ones too, and dense
 * layers behind a flatten), per-channel constants with the statistic each holds, optimizer state, and lists
 * recorded in layer descriptions.
 */
public final class Planner {

    private final AdaptableModel model;
    private final String source;

    private Planner(AdaptableModel model) {
        this.model = model;
        this.source = model.source();
    }

    /** The plan for {@code options}' input (and channel-independent layers); optimizer state unless dropped. */
    public static AdaptationPlan plan(AdaptableModel model, AdaptOptions options) {
        return new Planner(model).plan(options);
    }

    private AdaptationPlan plan(AdaptOptions options) {
        ChannelAnalysis analysis = new ChannelAnalysis(model.graph(), options.channelIndependent(), source,
                model.defaultAxis());
        ChannelPlanning.AnalysedInput analysed = ChannelPlanning.analyse(analysis, options.input(),
                model.trustsDeclaredShape(), this::kernelChannels, source);
        ChannelDependency dependency = analysed.dependency();
        int channels = analysed.channels();
        List<PlannedTensor> kernels = new ArrayList<>();
        for (Consumer consumer : dependency.consumers()) {
            List<LayerTensor> parts = model.tensorsOf(consumer);
            LayerTensor depthwise = part(parts, LayerTensor.Part.DEPTHWISE_KERNEL);
            if (depthwise != null) {
                kernels.addAll(separable(consumer, depthwise, require(parts, LayerTensor.Part.POINTWISE_KERNEL, consumer),
                        channels));
            } else {
                kernels.add(kernel(consumer, require(parts, LayerTensor.Part.KERNEL, consumer), channels));
            }
        }
        List<PlannedTensor> slots = new ArrayList<>();
        if (!options.dropsOptimizer()) {
            for (PlannedTensor kernel : kernels) {
                model.slotsOf(kernel.tensor()).forEach(slot -> slots.add(new PlannedTensor(kernel.consumer(),
                        LayerTensor.kernel(slot, kernel.layer().part(), kernel.layer().key() + ":" + slot.name(),
                                slot.name()), kernel.view(), kernel.dim(), PlannedTensor.Change.STATE, null)));
            }
        }
        List<PlannedTensor> constants = new ArrayList<>();
        List<PlannedList> lists = new ArrayList<>();
        for (Consumer consumer : dependency.constants()) {
            for (LayerTensor constant : model.tensorsOf(consumer)) {
                if (constant.part() == LayerTensor.Part.CONSTANT) {
                    PlannedTensor planned = constant(consumer, constant, channels);
                    if (planned != null) {
                        constants.add(planned);
                    }
                }
            }
            for (RecordedList list : model.listsOf(consumer)) {
                int size = list.values().length;
                if (consumer.segment().total() > 0 && size != consumer.segment().total()) {
                    throw RechannelException.malformed(source + ": layer '" + consumer.node().id() + "' has " + size
                            + " values in '" + list.key() + "' for " + consumer.segment().total() + " channels");
                }
                lists.add(new PlannedList(consumer, list, null));
            }
        }
        Normalisation first = Normalisation.of(dependency.constants(), constants, lists);
        return new AdaptationPlan(source, dependency, channels, kernels, first.constants(), slots, first.lists());
    }

    /** The input-channel count of a layer reading the input itself, from its kernel. */
    private int kernelChannels(Consumer consumer) {
        List<LayerTensor> parts = model.tensorsOf(consumer);
        LayerTensor kernel = part(parts, LayerTensor.Part.DEPTHWISE_KERNEL);
        if (kernel == null) {
            kernel = require(parts, LayerTensor.Part.KERNEL, consumer);
        }
        long[] shape = kernel.tensor().shape();
        requireShape(consumer, kernel, minimumRank(kernel.tensor().role(), consumer.segment()));
        return Math.toIntExact(shape[kernel.tensor().role().channelAxis(shape.length)]);
    }

    private static LayerTensor part(List<LayerTensor> parts, LayerTensor.Part part) {
        return parts.stream().filter(t -> t.part() == part).findFirst().orElse(null);
    }

    private LayerTensor require(List<LayerTensor> parts, LayerTensor.Part part, Consumer consumer) {
        LayerTensor found = part(parts, part);
        if (found == null) {
            throw RechannelException.malformed(source + ": layer '" + consumer.node().id() + "' (" + consumer.node().type()
                    + ") reads the input but its " + part.name().toLowerCase().replace('_', ' ') + " is not in the file");
        }
        return found;
    }

    private static int minimumRank(TensorRole role, Segment segment) {
        return role.isMatrix() || segment.flattened() ? 2 : 3;
    }

    /**
     * A tensor the adaptation reshapes must have the rank its layer gives it and no empty axis; a damaged or
     * crafted file can declare anything.
     */
    private void requireShape(Consumer consumer, LayerTensor tensor, int minimumRank) {
        long[] shape = tensor.tensor().shape();
        boolean empty = Arrays.stream(shape).anyMatch(d -> d < 1);
        boolean wide = Arrays.stream(shape).anyMatch(d -> d > Integer.MAX_VALUE);
        if (shape.length < minimumRank || empty || wide) {
            throw RechannelException.malformed(what(consumer, tensor) + (empty ? ", with an empty axis"
                    : wide ? ", with an axis too long for any real layer"
                    : "; it needs at least " + minimumRank + " dimensions"));
        }
    }

    private String what(Consumer consumer, LayerTensor tensor) {
        return source + ": layer '" + consumer.node().id() + "' (" + consumer.node().type() + ") " + tensor.label()
                + " " + Arrays.toString(tensor.tensor().shape());
    }

    private PlannedTensor kernel(Consumer consumer, LayerTensor kernel, int channels) {
        TensorRole role = kernel.tensor().role();
        Segment segment = consumer.segment();
        requireShape(consumer, kernel, minimumRank(role, segment));
        long[] shape = kernel.tensor().shape();
        String what = what(consumer, kernel);
        int dim = role.channelAxis(shape.length);
        if (dim < 0) {
            throw RechannelException.unsupported(what + ": rechannel cannot adapt a " + role + " kernel reading the input");
        }
        if (segment.flattened()) {
            if (!role.isMatrix() || shape.length != 2) {
                throw RechannelException.unsupported(what + " reads a flattened tensor; rechannel adapts 2-D dense weights there");
            }
            boolean transposed = !role.channelsLast();
            AxisView view = fitted(() -> ChannelPlanning.flattenedDense(shape[dim], shape[1 - dim], transposed, consumer,
                    channels, what), consumer, kernel, channels);
            return new PlannedTensor(consumer, kernel, view, dim, PlannedTensor.Change.MIX, null);
        }
        if (role.isMatrix() && shape.length != 2) {
            throw RechannelException.unsupported(what + " has a weight of rank " + shape.length
                    + "; rechannel adapts 2-D dense weights");
        }
        AxisView whole = AxisView.of(shape, dim);
        if (segment.total() > 0 && whole.axisLength() != segment.total()) {
            throw RechannelException.malformed(what + " has " + whole.axisLength()
                    + " input channels where the model feeds it " + segment.total());
        }
        AxisView view = fitted(() -> ChannelPlanning.span(whole, consumer, channels, what), consumer, kernel, channels);
        return new PlannedTensor(consumer, kernel, view, dim, PlannedTensor.Change.MIX, null);
    }

    /**
     * A separable convolution reading the input: its depthwise kernel (k..., C, multiplier) holds one filter per
     * input channel, its pointwise kernel (1..., C·multiplier, out) mixes them. Both change.
     */
    private List<PlannedTensor> separable(Consumer consumer, LayerTensor depthwise, LayerTensor pointwise, int channels) {
        Segment segment = consumer.segment();
        if (segment.offset() != 0 || segment.flattened() || segment.total() > 0 && segment.total() != channels
                || segment.slices() != 1) {
            throw RechannelException.unsupported(source + ": layer '" + consumer.node().id() + "' (" + consumer.node().type()
                    + ") reads the input together with other channels; rechannel cannot adapt that separable layer");
        }
        if (depthwise.tensor().role() != TensorRole.DEPTHWISE_HWIM) {
            throw RechannelException.unsupported(what(consumer, depthwise) + ": rechannel adapts separable convolutions"
                    + " with (…, in, multiplier) depthwise kernels");
        }
        requireShape(consumer, depthwise, 3);
        requireShape(consumer, pointwise, depthwise.tensor().shape().length);
        long[] d = depthwise.tensor().shape();
        long[] p = pointwise.tensor().shape();
        int rank = d.length;
        if (d[rank - 2] != channels || p[rank - 2] != d[rank - 2] * d[rank - 1]) {
            throw RechannelException.malformed(source + ": layer '" + consumer.node().id() + "' kernels "
                    + Arrays.toString(d) + " and " + Arrays.toString(p) + " do not fit " + channels + " input channels");
        }
        AxisView depthView = AxisView.of(d, rank - 2);
        AxisView pointView = AxisView.whole(1, channels, d[rank - 1] * p[rank - 1]);
        return List.of(
                new PlannedTensor(consumer, depthwise, depthView, rank - 2, PlannedTensor.Change.PATTERN, null),
                new PlannedTensor(consumer, pointwise, pointView, rank - 2, PlannedTensor.Change.MIX, null));
    }

    /**
     * A per-channel constant viewed along its channel axis; null for a single value broadcast to every channel.
     * A constant shaped like a broadcast operand ({@code [1, C, 1, 1]}) holds its channels on its one long axis.
     */
    private PlannedTensor constant(Consumer consumer, LayerTensor constant, int channels) {
        long[] shape = constant.tensor().shape();
        if (constant.broadcast() && Shapes.count(shape) <= 1) {
            return null;
        }
        requireShape(consumer, constant, 0);
        int dim = channelDim(shape, consumer.segment());
        AxisView whole = AxisView.of(shape.length == 0 ? new long[] {1} : shape, dim);
        if (whole.axisLength() == 1 && channels > 1) {
            throw RechannelException.unsupported(source + ": layer '" + consumer.node().id() + "' stores one '"
                    + constant.label() + "' for all channels; rechannel expects one per channel");
        }
        String what = source + ": layer '" + consumer.node().id() + "' '" + constant.label() + "'";
        AxisView view = fitted(() -> ChannelPlanning.span(whole, consumer, channels, what), consumer, constant, channels);
        return new PlannedTensor(consumer, constant, view, dim, PlannedTensor.Change.CONSTANT, null);
    }

    private static int channelDim(long[] shape, Segment segment) {
        if (shape.length <= 1) {
            return 0;
        }
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] > 1) {
                return d;
            }
        }
        return segment.axis() == ChannelAxis.LAST ? shape.length - 1 : Math.max(0, shape.length - 3);
    }

    /** A view of a tensor narrower than the channels the model feeds it (a declared shape the weights belie) is malformed. */
    private <T> T fitted(Supplier<T> view, Consumer consumer, LayerTensor tensor, int channels) {
        try {
            return view.get();
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw RechannelException.malformed(source + ": layer '" + consumer.node().id() + "' reads '" + tensor.label()
                    + "' of shape " + Arrays.toString(tensor.tensor().shape()) + ", which does not fit the " + channels
                    + " channels the model feeds it" + (consumer.segment().offset() > 0
                    ? " at offset " + consumer.segment().offset() : ""));
        }
    }

    /**
     * The first normalisation in front of the adapted layers, where the user's statistics for new channels go: the
     * first layer holding a mean, with its own spread (variance, standard deviation) or else the first later layer
     * holding one (a subtraction followed by a division).
     */
    private record Normalisation(List<PlannedTensor> constants, List<PlannedList> lists) {

        /** {@code layers}: the per-channel layers in order from the input, holding tensors, lists or both. */
        static Normalisation of(List<Consumer> layers, List<PlannedTensor> constants, List<PlannedList> lists) {
            List<String> order = new ArrayList<>();
            layers.forEach(c -> add(order, c.node().id()));
            String meanNode = null;
            String spreadNode = null;
            for (String node : order) {
                boolean mean = holds(constants, lists, node, true);
                boolean spread = holds(constants, lists, node, false);
                if (meanNode == null && mean) {
                    meanNode = node;
                    spreadNode = spread ? node : null;
                } else if (meanNode != null && spreadNode == null && spread) {
                    spreadNode = node;
                }
            }
            String m = meanNode;
            String s = spreadNode;
            return new Normalisation(
                    constants.stream().map(c -> new PlannedTensor(c.consumer(), c.layer(), c.view(), c.dim(), c.change(),
                            chosen(c.node(), c.layer().statistic(), m, s))).toList(),
                    lists.stream().map(l -> new PlannedList(l.consumer(), l.list(),
                            chosen(l.node(), l.list().statistic(), m, s))).toList());
        }

        private static void add(List<String> order, String node) {
            if (!order.contains(node)) {
                order.add(node);
            }
        }

        private static boolean holds(List<PlannedTensor> constants, List<PlannedList> lists, String node, boolean mean) {
            return constants.stream().filter(c -> c.node().equals(node)).anyMatch(c -> is(c.layer().statistic(), mean))
                    || lists.stream().filter(l -> l.node().equals(node)).anyMatch(l -> is(l.list().statistic(), mean));
        }

        private static boolean is(Statistic statistic, boolean mean) {
            return statistic != null && (statistic == Statistic.MEAN) == mean;
        }

        private static Statistic chosen(String node, Statistic statistic, String meanNode, String spreadNode) {
            if (statistic == null) {
                return null;
            }
            boolean mean = statistic == Statistic.MEAN;
            return node.equals(mean ? meanNode : spreadNode) ? statistic : null;
        }
    }
}

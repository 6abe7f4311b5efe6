package io.rechannel.graph;

import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Follows one input through a model to every layer that depends on its channels. The walk passes
 * through per-channel layers (padding, pooling, normalisation, activations), concatenations and
 * flattens, and stops at the layers that mix channels (convolutions, dense layers): those are the
 * ones whose weights change. A layer whose channel behaviour is unknown stops the analysis unless the
 * caller declared it channel-independent.
 */
public final class ChannelAnalysis {

    private final ModelGraph graph;
    private final Set<String> declaredIndependent;
    private final String source;
    private final ChannelAxis defaultAxis;
    /** The input's channel axis, once the input or a layer reading it directly has said. */
    private ChannelAxis inputAxis;
    /** False while the caller does not know the input's channel count (a first pass to find the axis). */
    private boolean channelsKnown;

    /**
     * @param source              what to name in messages (the file)
     * @param declaredIndependent nodes the user declared to treat every channel alike
     */
    public ChannelAnalysis(ModelGraph graph, Set<String> declaredIndependent, String source) {
        this(graph, declaredIndependent, source, ChannelAxis.LAST);
    }

    /**
     * @param defaultAxis where channels are when nothing in the model says (Keras: last; ONNX: first)
     */
    public ChannelAnalysis(ModelGraph graph, Set<String> declaredIndependent, String source, ChannelAxis defaultAxis) {
        this.graph = graph;
        this.declaredIndependent = declaredIndependent;
        this.source = source;
        this.defaultAxis = defaultAxis;
    }

    /** Picks the input to adapt: the named one, or the only one. */
    public Node chooseInput(String name) {
        List<Node> inputs = graph.inputs();
        if (name != null) {
            return inputs.stream().filter(n -> n.id().equals(name)).findFirst().orElseThrow(() ->
                    RechannelException.usage(source + ": no input named '" + name + "'; inputs are "
                            + inputs.stream().map(Node::id).toList()));
        }
        if (inputs.isEmpty()) {
            throw RechannelException.malformed(source + ": the model declares no input");
        }
        if (inputs.size() > 1) {
            throw RechannelException.usage(source + ": the model has " + inputs.size() + " inputs "
                    + inputs.stream().map(Node::id).toList() + "; choose one with " + OptionName.INPUT);
        }
        return inputs.get(0);
    }

    /** Analyses the given input; {@code channels} is its channel count, or -1 if the model does not say. */
    public ChannelDependency analyse(Node input, int channels) {
        Map<String, Segment> carried = new LinkedHashMap<>();
        inputAxis = input.channelAxis();
        channelsKnown = channels > 0;
        List<Consumer> consumers = new ArrayList<>();
        List<Consumer> constants = new ArrayList<>();
        List<Consumer> dimensions = new ArrayList<>();
        List<String> opaque = new ArrayList<>();
        Set<String> done = new HashSet<>();
        Set<String> waiting = new LinkedHashSet<>();
        carried.put(input.id(), new Segment(input.channelAxis(), 0, channels, false));

        Deque<String> work = new ArrayDeque<>();
        work.add(input.id());
        while (!work.isEmpty()) {
            String id = work.poll();
            for (ModelGraph.Use use : graph.usesOf(id)) {
                Node node = use.node();
                if (done.contains(node.id())) {
                    continue;
                }
                // a node with several inputs is handled once all of its carrying inputs are known
                if (!allCarryingInputsKnown(node, carried)) {
                    waiting.add(node.id());
                    continue;
                }
                done.add(node.id());
                waiting.remove(node.id());
                Segment in = carried.get(node.inputs().get(use.position()));
                if (node.role() == NodeRole.DIMENSIONS) {
                    dimensions.add(new Consumer(node, use.position(), resolveAxis(node, in)));
                    continue;
                }
                Segment out = step(node, use.position(), in, carried, consumers, constants, opaque);
                if (out != null) {
                    carried.put(node.id(), out);
                    work.add(node.id());
                }
            }
        }
        if (!opaque.isEmpty()) {
            throw new RechannelException(RechannelException.Kind.AMBIGUOUS_CHANNELS, source + ": "
                    + String.join(", ", opaque) + " between input '" + input.id()
                    + "' and the first convolution: rechannel cannot read its channel behaviour from the model."
                    + " If it treats every channel alike (e.g. x/255 - 0.5), use " + OptionName.CHANNEL_INDEPENDENT + " "
                    + opaque.get(0).replaceAll(" .*", "").replace("'", ""));
        }
        if (!waiting.isEmpty()) {
            String id = waiting.iterator().next();
            throw RechannelException.unsupported(source + ": layer '" + id + "' (" + graph.node(id).type()
                    + ") combines the input's channels with a tensor whose channels rechannel cannot follow");
        }
        if (consumers.isEmpty()) {
            throw RechannelException.unsupported(source + ": no convolution or dense layer reads input '"
                    + input.id() + "'; nothing depends on its channels");
        }
        ChannelAxis axis = inputAxis != null ? inputAxis : defaultAxis;
        // tensors no layer spoke for (the input itself, padding, ...) lie before any transpose: the input's axis
        carried.replaceAll((id, segment) -> segment.axis() == null ? segment.withAxis(axis) : segment);
        UnaryOperator<Consumer> resolve = c -> c.segment().axis() == null
                ? new Consumer(c.node(), c.position(), c.segment().withAxis(axis)) : c;
        consumers.replaceAll(resolve);
        constants.replaceAll(resolve);
        dimensions.replaceAll(resolve);
        return new ChannelDependency(input.id(), axis, consumers, constants, carried, dimensions);
    }

    private boolean allCarryingInputsKnown(Node node, Map<String, Segment> carried) {
        if (node.inputs().size() < 2) {
            return true;
        }
        // an input that is itself downstream of the adapted input but not reached yet makes us wait
        for (String in : node.inputs()) {
            if (!carried.containsKey(in) && carriesChannels(in, carried)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a tensor will carry the input's channels: it is reached from a carrying tensor through layers that
     * pass channels on. A layer that mixes channels (a convolution) or reads only dimensions ends the path: its
     * output holds new features, whatever its input was.
     */
    private boolean carriesChannels(String id, Map<String, Segment> carried) {
        Set<String> seen = new HashSet<>();
        Deque<String> open = new ArrayDeque<>(List.of(id));
        while (!open.isEmpty()) {
            String next = open.pop();
            if (carried.containsKey(next)) {
                return true;
            }
            Node node = graph.node(next);
            if (seen.add(next) && node.role() != NodeRole.MIXES_CHANNELS && node.role() != NodeRole.DIMENSIONS) {
                open.addAll(node.inputs());
            }
        }
        return false;
    }

    private Segment step(Node node, int position, Segment in, Map<String, Segment> carried,
                         List<Consumer> consumers, List<Consumer> constants, List<String> opaque) {
        NodeRole role = node.role();
        if (role == NodeRole.OPAQUE && declaredIndependent.contains(node.id())) {
            role = NodeRole.PER_CHANNEL;
        }
        Segment axisIn = resolveAxis(node, in);
        switch (role) {
            case MIXES_CHANNELS -> {
                if (node.refusal() != null) {
                    throw RechannelException.inexact(source + ": layer '" + node.id() + "' (" + node.type()
                            + ") reads the input's channels but " + node.refusal());
                }
                consumers.add(new Consumer(node, position, axisIn));
                return null;
            }
            case PER_CHANNEL, NESTED_MODEL, INPUT -> {
                return axisIn;
            }
            case PER_CHANNEL_CONSTANTS -> {
                if (in.flattened()) {
                    throw RechannelException.unsupported(source + ": layer '" + node.id() + "' (" + node.type()
                            + ") applies per-feature constants after a flatten; rechannel cannot adapt it");
                }
                constants.add(new Consumer(node, position, axisIn));
                return axisIn;
            }
            case FLATTEN -> {
                // a flatten that declares channels-first input reorders to channels-last before folding (Keras),
                // so channels vary fastest in its output; otherwise the order follows the tensor's layout
                ChannelAxis known = axisIn.axis() != null ? axisIn.axis() : inputAxis != null ? inputAxis : defaultAxis;
                ChannelAxis order = node.channelAxis() == ChannelAxis.FIRST ? ChannelAxis.LAST : known;
                return new Segment(order, axisIn.offsets(), axisIn.total(), true);
            }
            case ELEMENTWISE -> {
                for (String other : node.inputs()) {
                    Segment s = carried.get(other);
                    if (s == null || !s.offsets().equals(in.offsets()) || s.total() != in.total()) {
                        throw new RechannelException(RechannelException.Kind.AMBIGUOUS_CHANNELS, source + ": layer '"
                                + node.id() + "' (" + node.type() + ") combines the input's channels with '" + other
                                + "', which does not carry them the same way; rechannel cannot adapt it exactly");
                    }
                }
                return axisIn;
            }
            case CONCAT -> {
                return concat(node, axisIn, carried);
            }
            case TRANSPOSE -> {
                return transpose(node, axisIn);
            }
            case OPAQUE -> {
                opaque.add("'" + node.id() + "' (" + node.type() + ")");
                return null;
            }
            default -> throw new IllegalStateException("unexpected role " + role);
        }
    }

    private Segment resolveAxis(Node node, Segment in) {
        if (node.channelAxis() == null || in.flattened()) {
            return in;
        }
        if (in.axis() != null && in.axis() != node.channelAxis()) {
            throw RechannelException.unsupported(source + ": layer '" + node.id() + "' expects channels "
                    + (node.channelAxis() == ChannelAxis.FIRST ? "first" : "last") + " but earlier layers put them "
                    + (in.axis() == ChannelAxis.FIRST ? "first" : "last"));
        }
        if (in.axis() == null && inputAxis == null) {
            inputAxis = node.channelAxis();
        }
        return in.withAxis(node.channelAxis());
    }

    /** Follows the channel axis through an axis permutation; it must land first (after batch) or last. */
    private Segment transpose(Node node, Segment in) {
        int[] perm = node.permutation();
        int rank = perm == null ? -1 : perm.length;
        if (rank < 2 || in.flattened()) {
            throw RechannelException.unsupported(source + ": layer '" + node.id() + "' (" + node.type()
                    + ") reorders axes in a way rechannel cannot follow");
        }
        ChannelAxis before = in.axis() != null ? in.axis() : inputAxis;
        if (before == null) {
            // nothing has said where the input keeps its channels: the permutation must bring them first or last
            for (ChannelAxis candidate : new ChannelAxis[] {defaultAxis, defaultAxis == ChannelAxis.FIRST
                    ? ChannelAxis.LAST : ChannelAxis.FIRST}) {
                int to = indexOf(perm, candidate.index(rank));
                if (to == 1 || to == rank - 1) {
                    before = candidate;
                    break;
                }
            }
            if (before == null) {
                before = defaultAxis;
            }
            inputAxis = before;
        }
        int from = before.index(rank);
        for (int to = 0; to < rank; to++) {
            if (perm[to] == from) {
                ChannelAxis moved = to == rank - 1 ? ChannelAxis.LAST : to == 1 ? ChannelAxis.FIRST : null;
                if (moved == null) {
                    throw RechannelException.unsupported(source + ": layer '" + node.id() + "' moves the channels to axis "
                            + to + " of " + rank);
                }
                return new Segment(moved, in.offsets(), in.total(), false);
            }
        }
        throw RechannelException.malformed(source + ": layer '" + node.id() + "' has an invalid permutation");
    }

    private static int indexOf(int[] values, int value) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] == value) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Concatenation along the channel axis places each input's channels after those of the inputs before it; every
     * slice of the adapted input in any carrying input moves by that base. Along another axis, every input must
     * carry the channels the same way.
     */
    private Segment concat(Node node, Segment in, Map<String, Segment> carried) {
        int rank = -1;
        for (int k = 0; k < node.inputs().size() && rank < 0; k++) {
            rank = node.inputShape(k).map(shape -> shape.length).orElse(-1);
        }
        ChannelAxis concatAxis = ChannelAxis.ofIndex(node.concatAxis() == null ? -1 : node.concatAxis(), rank);
        ChannelAxis channelAxis = in.axis() != null ? in.axis() : inputAxis != null ? inputAxis : defaultAxis;
        List<Segment> parts = new ArrayList<>();
        for (String input : node.inputs()) {
            parts.add(carried.get(input));
        }
        if (concatAxis != channelAxis || parts.stream().anyMatch(p -> p != null && p.flattened())) {
            if (parts.stream().allMatch(p -> p != null && p.offsets().equals(in.offsets()) && p.total() == in.total()
                    && p.flattened() == in.flattened())) {
                return in;
            }
            throw RechannelException.unsupported(source + ": layer '" + node.id()
                    + "' concatenates the input with other tensors along a non-channel axis");
        }
        if (!channelsKnown) {
            // placed once the input's channel count is known; a first pass only looks for the axis and direct readers
            return new Segment(channelAxis, -1, -1, false);
        }
        List<Integer> offsets = new ArrayList<>();
        int base = 0;
        for (int k = 0; k < parts.size(); k++) {
            Segment part = parts.get(k);
            int channels = part != null ? part.total()
                    : node.inputShape(k).map(shape -> (int) shape[channelAxis.index(shape.length)]).orElse(-1);
            if (part != null) {
                if (base < 0) {
                    throw RechannelException.unsupported(source + ": layer '" + node.id() + "' concatenates input "
                            + (k + 1) + " after a tensor whose channel count the model does not record");
                }
                for (int offset : part.offsets()) {
                    offsets.add(base + offset);
                }
            }
            base = base < 0 || channels < 0 ? -1 : base + channels;
        }
        return new Segment(channelAxis, offsets, base, false);
    }
}

package io.rechannel.graph;

import io.rechannel.core.RechannelException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
                    + inputs.stream().map(Node::id).toList() + "; choose one with --input");
        }
        return inputs.get(0);
    }

    /** Analyses the given input; {@code channels} is its channel count, or -1 if the model does not say. */
    public ChannelDependency analyse(Node input, int channels) {
        Map<String, Segment> carried = new LinkedHashMap<>();
        inputAxis = input.channelAxis();
        List<Consumer> consumers = new ArrayList<>();
        List<Consumer> constants = new ArrayList<>();
        List<String> opaque = new ArrayList<>();
        carried.put(input.id(), new Segment(input.channelAxis(), 0, channels, false));

        Deque<String> work = new ArrayDeque<>();
        work.add(input.id());
        while (!work.isEmpty()) {
            String id = work.poll();
            for (ModelGraph.Use use : graph.usesOf(id)) {
                Node node = use.node();
                if (carried.containsKey(node.id()) || consumers.stream().anyMatch(c -> c.node() == node)) {
                    continue;
                }
                // a node with several inputs is handled once all of its carrying inputs are known
                if (!allCarryingInputsKnown(node, carried)) {
                    continue;
                }
                Segment in = carried.get(node.inputs().get(use.position()));
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
                    + " If it treats every channel alike (e.g. x/255 - 0.5), pass --channel-independent "
                    + opaque.get(0).replaceAll(" .*", "").replace("'", ""));
        }
        if (consumers.isEmpty()) {
            throw RechannelException.unsupported(source + ": no convolution or dense layer reads input '"
                    + input.id() + "'; nothing depends on its channels");
        }
        ChannelAxis axis = inputAxis != null ? inputAxis : defaultAxis;
        // tensors no layer spoke for (the input itself, padding, ...) lie before any transpose: the input's axis
        carried.replaceAll((id, segment) -> segment.axis() == null ? segment.withAxis(axis) : segment);
        consumers.replaceAll(c -> c.segment().axis() == null ? new Consumer(c.node(), c.position(), c.segment().withAxis(axis)) : c);
        constants.replaceAll(c -> c.segment().axis() == null ? new Consumer(c.node(), c.position(), c.segment().withAxis(axis)) : c);
        return new ChannelDependency(input.id(), axis, consumers, constants, carried);
    }

    private boolean allCarryingInputsKnown(Node node, Map<String, Segment> carried) {
        if (node.inputs().size() < 2) {
            return true;
        }
        // an input that is itself downstream of the adapted input but not reached yet makes us wait
        for (String in : node.inputs()) {
            if (!carried.containsKey(in) && dependsOnCarried(in, carried, new java.util.HashSet<>())) {
                return false;
            }
        }
        return true;
    }

    private boolean dependsOnCarried(String id, Map<String, Segment> carried, Set<String> seen) {
        if (carried.containsKey(id)) {
            return true;
        }
        if (!seen.add(id)) {
            return false;
        }
        for (String in : graph.node(id).inputs()) {
            if (dependsOnCarried(in, carried, seen)) {
                return true;
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
                return new Segment(order, axisIn.offset(), axisIn.total(), true);
            }
            case ELEMENTWISE -> {
                for (String other : node.inputs()) {
                    Segment s = carried.get(other);
                    if (s == null || s.offset() != in.offset() || s.total() != in.total()) {
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
                return new Segment(moved, in.offset(), in.total(), false);
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

    private Segment concat(Node node, Segment in, Map<String, Segment> carried) {
        int rank = node.inputShape(0).map(s -> s.length).orElse(-1);
        ChannelAxis concatAxis = ChannelAxis.ofIndex(node.concatAxis() == null ? -1 : node.concatAxis(), rank);
        ChannelAxis channelAxis = in.axis() != null ? in.axis() : inputAxis != null ? inputAxis : defaultAxis;
        List<Integer> carrying = new ArrayList<>();
        for (int k = 0; k < node.inputs().size(); k++) {
            if (carried.containsKey(node.inputs().get(k))) {
                carrying.add(k);
            }
        }
        if (concatAxis != channelAxis || in.flattened()) {
            if (carrying.size() == node.inputs().size()) {
                return in;
            }
            throw RechannelException.unsupported(source + ": layer '" + node.id()
                    + "' concatenates the input with other tensors along a non-channel axis");
        }
        if (carrying.size() > 1) {
            throw RechannelException.unsupported(source + ": layer '" + node.id()
                    + "' concatenates the input's channels more than once; rechannel cannot adapt it");
        }
        int offset = 0;
        int total = 0;
        for (int k = 0; k < node.inputs().size(); k++) {
            Segment s = carried.get(node.inputs().get(k));
            int channels;
            if (s != null) {
                offset += k == carrying.get(0) ? s.offset() : 0;
                channels = s.total();
            } else {
                channels = node.inputShape(k).map(shape -> (int) shape[channelAxis.index(shape.length)]).orElse(-1);
                if (channels < 0 && k < carrying.get(0)) {
                    throw RechannelException.unsupported(source + ": layer '" + node.id() + "' concatenates input "
                            + (k + 1) + " before the adapted channels and the model does not record its channel count");
                }
            }
            if (k < carrying.get(0)) {
                offset += channels;
            }
            total = total < 0 || channels < 0 ? -1 : total + channels;
        }
        return new Segment(channelAxis, offset, total, false);
    }
}

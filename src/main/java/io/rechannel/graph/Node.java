package io.rechannel.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * One operation of a model, reduced to what the channel analysis needs.
 *
 * @param id          unique name in the graph; nested models' nodes are qualified ({@code backbone/block1_conv1})
 * @param type        the framework's name for the operation ({@code Conv2D}, {@code Normalization})
 * @param role        how it treats channels
 * @param inputs      ids of the nodes whose outputs it reads, in order
 * @param inputShapes the shapes of those inputs where the model records them (batch axis first, -1 unknown), else null entries
 * @param channelAxis where its input holds channels when the node says so (data_format, axis), else null
 * @param concatAxis  for CONCAT nodes, the axis as the model gives it (negative counts from the end)
 * @param refusal     when non-null, why this node cannot be adapted exactly (grouped convolution, ...)
 * @param permutation for TRANSPOSE nodes, the axis order of the output (ONNX's perm)
 */
public record Node(String id, String type, NodeRole role, List<String> inputs, List<long[]> inputShapes,
                   ChannelAxis channelAxis, Integer concatAxis, String refusal, int[] permutation) {

    public Node(String id, String type, NodeRole role, List<String> inputs, List<long[]> inputShapes,
                ChannelAxis channelAxis, Integer concatAxis, String refusal) {
        this(id, type, role, inputs, inputShapes, channelAxis, concatAxis, refusal, null);
    }

    public Node {
        inputs = List.copyOf(inputs);
        inputShapes = inputShapes == null ? Collections.nCopies(inputs.size(), null)
                : Collections.unmodifiableList(new ArrayList<>(inputShapes));
    }

    public static Node input(String id, long[] shape, ChannelAxis channelAxis) {
        return new Node(id, "Input", NodeRole.INPUT, List.of(), List.of(), channelAxis, null, null)
                .withOutputShape(shape);
    }

    /** The recorded shape of input {@code index}, if known. */
    public Optional<long[]> inputShape(int index) {
        return Optional.ofNullable(index < inputShapes.size() ? inputShapes.get(index) : null);
    }

    // An input node has no inputs; its own shape is kept as its single "input shape".
    private Node withOutputShape(long[] shape) {
        return new Node(id, type, role, inputs, Collections.singletonList(shape), channelAxis, concatAxis, refusal,
                permutation);
    }

    /** For an INPUT node: its declared shape, if any. */
    public Optional<long[]> declaredShape() {
        return role == NodeRole.INPUT ? inputShape(0) : Optional.empty();
    }
}

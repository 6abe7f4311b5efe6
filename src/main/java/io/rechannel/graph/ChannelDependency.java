package io.rechannel.graph;

import java.util.List;
import java.util.Map;

/**
 * Everything in a model that depends on the channels of one input.
 *
 * @param input       the input node's id
 * @param axis        where the input keeps its channels
 * @param consumers   layers whose weights are mixed by the channel map
 * @param constants   per-channel layers between the input and the consumers, in order from the input
 * @param tensors     every node whose output carries the input's channels (the input included), with where
 * @param dimensions  nodes reading only the dimensions of a tensor that carries the channels (ONNX Shape, Size)
 */
public record ChannelDependency(String input, ChannelAxis axis, List<Consumer> consumers,
                                List<Consumer> constants, Map<String, Segment> tensors, List<Consumer> dimensions) {
}

package io.rechannel.graph;

/** How a node treats the channels of its input; this is all the analysis needs to know of it. */
public enum NodeRole {
    /** A model input. */
    INPUT,
    /** Linear in the channels (convolution, dense): its weights are mixed by the channel map. */
    MIXES_CHANNELS,
    /** Handles each channel on its own without per-channel constants (padding, pooling, activations, dropout). */
    PER_CHANNEL,
    /** Handles each channel on its own with per-channel constants (Rescaling with a list, Normalization, BatchNorm). */
    PER_CHANNEL_CONSTANTS,
    /** Element-wise combination of several tensors of the same shape (Add, Multiply, Average). */
    ELEMENTWISE,
    /** Concatenation along an axis. */
    CONCAT,
    /** Reorders axes (ONNX Transpose): the channels move with their axis. */
    TRANSPOSE,
    /** Folds spatial and channel axes into one feature axis. */
    FLATTEN,
    /**
     * Reads only the dimensions of its input (ONNX {@code Shape}, {@code Size}): its output carries no channels, but
     * whatever uses the channel count depends on them; the format checks its users.
     */
    DIMENSIONS,
    /** A model nested inside another; its inner nodes are part of the graph and this node only forwards. */
    NESTED_MODEL,
    /** Behaviour that cannot be read from the model (Lambda, custom layers): the analysis stops here. */
    OPAQUE
}

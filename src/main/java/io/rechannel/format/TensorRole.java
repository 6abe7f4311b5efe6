package io.rechannel.format;

/**
 * What a stored tensor is in its layer, and how its axes are laid out. Frameworks store the same
 * weights in different layouts: Keras convolution kernels are (…spatial, in, out), PyTorch and ONNX
 * ones (out, in, …spatial); Keras dense kernels (in, out), PyTorch Linear weights (out, in).
 */
public enum TensorRole {
    /** A convolution kernel, (…spatial, in, out): Keras Conv1D/2D/3D, a separable convolution's pointwise kernel. */
    CONV_HWIO(Kind.KERNEL),
    /** A convolution weight, (out, in, …spatial): PyTorch Conv1d/2d/3d, ONNX Conv. */
    CONV_OIHW(Kind.KERNEL),
    /** A transposed convolution kernel, (…spatial, out, in): Keras Conv1D/2D/3DTranspose. */
    CONV_TRANSPOSE_HWOI(Kind.OTHER),
    /** A transposed convolution weight, (in, out / groups, …spatial): PyTorch ConvTranspose, ONNX ConvTranspose. */
    CONV_TRANSPOSE_IOHW(Kind.OTHER),
    /** A depthwise kernel, (…spatial, in, multiplier): Keras DepthwiseConv2D, a separable convolution's depthwise kernel. */
    DEPTHWISE_HWIM(Kind.KERNEL),
    /** A depthwise weight, (in · multiplier, 1, …spatial): an ONNX Conv whose groups equal its input channels. */
    DEPTHWISE_OIHW(Kind.KERNEL),
    /** A dense kernel, (in, out): Keras Dense, ONNX MatMul and Gemm without transB. */
    DENSE_IN_OUT(Kind.MATRIX),
    /** A dense kernel reading a flattened feature map in channels-last order: rows are (…position, channel). */
    DENSE_IN_OUT_FLATTENED(Kind.MATRIX),
    /** A linear weight, (out, in): PyTorch Linear, ONNX Gemm with transB. */
    LINEAR_OUT_IN(Kind.MATRIX),
    /** A linear weight reading a flattened feature map in channels-first order: columns are (channel, …position). */
    LINEAR_OUT_IN_FLATTENED(Kind.MATRIX),
    /** A layer's additive bias. */
    BIAS(Kind.BIAS),
    /** Batch normalisation scale (Keras gamma, PyTorch weight). */
    BN_GAMMA(Kind.BN_GAMMA),
    /** Batch normalisation offset (Keras beta, PyTorch bias). */
    BN_BETA(Kind.BN_BETA),
    /** Batch normalisation running mean. */
    BN_MEAN(Kind.BN_MEAN),
    /** Batch normalisation running variance. */
    BN_VARIANCE(Kind.BN_VARIANCE),
    /** Anything else (embeddings, normalisation constants, integer counters): copied only where shapes agree. */
    OTHER(Kind.OTHER);

    /** Tensors of one kind are matched with each other by order. */
    public enum Kind { KERNEL, MATRIX, BIAS, BN_GAMMA, BN_BETA, BN_MEAN, BN_VARIANCE, OTHER }

    private final Kind kind;

    TensorRole(Kind kind) {
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** True for the channels-last layouts (Keras), false for channels-first ones (PyTorch, ONNX) and 1-D tensors. */
    public boolean channelsLast() {
        return this == CONV_HWIO || this == CONV_TRANSPOSE_HWOI || this == DEPTHWISE_HWIM || this == DENSE_IN_OUT || this == DENSE_IN_OUT_FLATTENED;
    }

    /** True for a weight reading a flattened feature map, whose row order depends on the framework. */
    public boolean flattened() {
        return this == DENSE_IN_OUT_FLATTENED || this == LINEAR_OUT_IN_FLATTENED;
    }

    /** The axis holding the layer's input channels in a tensor of rank {@code rank}, or -1 when it has none. */
    public int inputAxis(int rank) {
        return switch (this) {
            case CONV_HWIO -> rank - 2;
            case CONV_TRANSPOSE_HWOI -> rank - 1;
            case CONV_TRANSPOSE_IOHW -> 0;
            case CONV_OIHW, LINEAR_OUT_IN, LINEAR_OUT_IN_FLATTENED -> 1;
            case DENSE_IN_OUT, DENSE_IN_OUT_FLATTENED -> 0;
            // a depthwise layer's outputs follow its inputs: its channel count cannot change alone
            case DEPTHWISE_HWIM, DEPTHWISE_OIHW -> -1;
            case BIAS, BN_GAMMA, BN_BETA, BN_MEAN, BN_VARIANCE, OTHER -> rank == 1 ? 0 : -1;
        };
    }

    /**
     * The axis indexed by the channels the layer reads, or -1: its {@link #inputAxis}, and for a depthwise kernel
     * the axis of its per-channel filters.
     */
    public int channelAxis(int rank) {
        return switch (this) {
            case DEPTHWISE_HWIM -> rank - 2;
            case DEPTHWISE_OIHW -> 0;
            default -> inputAxis(rank);
        };
    }

    /** True for a dense or linear matrix, whose input features may fold positions with channels. */
    public boolean isMatrix() {
        return kind == Kind.MATRIX;
    }

    /** The axis holding the layer's outputs (classes, filters) in a tensor of rank {@code rank}, or -1. */
    public int outputAxis(int rank) {
        return switch (this) {
            case CONV_HWIO, DEPTHWISE_HWIM, DENSE_IN_OUT, DENSE_IN_OUT_FLATTENED -> rank - 1;
            case CONV_TRANSPOSE_HWOI -> rank - 2;
            case CONV_TRANSPOSE_IOHW -> 1;
            case CONV_OIHW, DEPTHWISE_OIHW, LINEAR_OUT_IN, LINEAR_OUT_IN_FLATTENED -> 0;
            case BIAS, BN_GAMMA, BN_BETA, BN_MEAN, BN_VARIANCE, OTHER -> rank == 1 ? 0 : -1;
        };
    }
}

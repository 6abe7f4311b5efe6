package io.rechannel.pipeline;

import io.rechannel.core.Statistic;
import io.rechannel.format.NamedTensor;

/**
 * One tensor of a layer that depends on the input's channels, as its format reads the layer: what part it plays
 * and, through its {@link NamedTensor#role()}, how its axes are laid out.
 *
 * @param tensor    the stored tensor
 * @param part      what it is in the layer
 * @param key       names it within its layer, the same in the original and the adapted model ({@code kernel},
 *                  {@code moving_mean}, an ONNX node's input position): the verifier pairs tensors by layer and key
 * @param label     names it in reports ({@code kernel}, an ONNX initializer's name)
 * @param statistic for a constant, what it holds if its layer is the first normalisation in front of the adapted
 *                  layers (a mean, a standard deviation); null for a scale, a shift or anything else
 * @param broadcast for a constant, true when a single value is one for every channel (an ONNX scalar operand),
 *                  which is left alone; false when the layer must store one value per channel
 */
public record LayerTensor(NamedTensor tensor, Part part, String key, String label, Statistic statistic,
                          boolean broadcast) {

    /** What a tensor is in a layer reading the channels. */
    public enum Part {
        /** The weight that mixes the channels: a convolution kernel, a dense matrix. */
        KERNEL,
        /** A separable convolution's depthwise kernel: one filter per input channel, mixed by its pointwise kernel. */
        DEPTHWISE_KERNEL,
        /** A separable convolution's pointwise kernel, reading the depthwise filters' outputs. */
        POINTWISE_KERNEL,
        /** Per-channel constants of a layer handling each channel on its own (normalisation statistics). */
        CONSTANT
    }

    /** A kernel (or a separable convolution's part). */
    public static LayerTensor kernel(NamedTensor tensor, Part part, String key, String label) {
        return new LayerTensor(tensor, part, key, label, null, false);
    }

    /** A per-channel constant. */
    public static LayerTensor constant(NamedTensor tensor, String key, String label, Statistic statistic,
                                       boolean broadcast) {
        return new LayerTensor(tensor, Part.CONSTANT, key, label, statistic, broadcast);
    }

    public String name() {
        return tensor.name();
    }
}

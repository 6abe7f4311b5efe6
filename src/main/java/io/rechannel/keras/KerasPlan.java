package io.rechannel.keras;

import io.rechannel.core.AxisView;
import io.rechannel.core.Statistic;
import io.rechannel.graph.ChannelDependency;
import io.rechannel.graph.Consumer;

import java.util.List;

/**
 * The result of analysing a Keras model for one input: which layers and variables depend on its
 * channels and how each variable's channel axis is laid out.
 *
 * @param dependency  the format-independent analysis
 * @param channels    the input's channel count
 * @param mixed       variables whose input-channel slices are mixed by the channel map
 * @param constants   per-channel constants stored as variables (normalisation statistics)
 * @param configLists per-channel constants stored in layer configs (Rescaling lists, Normalization mean/variance)
 */
record KerasPlan(KerasModelGraph model, ChannelDependency dependency, int channels,
                        List<ViewedWeight> mixed, List<ViewedWeight> constants, List<ConfigList> configLists) {

    /**
     * A variable with the view of its channel axis, the layer it belongs to, and the dimension of its
     * shape that holds the channel axis (folded with positions for a dense layer behind a flatten); for a
     * constant of the first normalisation, the statistic it holds (else null).
     */
    public record ViewedWeight(Consumer consumer, KerasLayer layer, KerasWeight weight, AxisView view, int dim,
                               Mixing mixing, Statistic statistic) {

        ViewedWeight(Consumer consumer, KerasLayer layer, KerasWeight weight, AxisView view, int dim, Mixing mixing) {
            this(consumer, layer, weight, view, dim, mixing, null);
        }

        /** The variable's shape once its channel segment holds {@code newCount} channels. */
        long[] newShape(int newCount) {
            return view.resizedShape(weight.shape().length == 0 ? new long[] {1} : weight.shape(), dim, newCount);
        }
    }

    /** How a weight's channel slices change: by M itself, or copied along M's pattern (a separable depthwise kernel). */
    public enum Mixing {
        MAP,
        PATTERN
    }

    /**
     * A per-channel list in a layer config, such as Rescaling's {@code scale}; {@code statistic} says which one
     * it holds of the first normalisation (null when the user's statistics do not go there).
     */
    public record ConfigList(Consumer consumer, KerasLayer layer, String key, Statistic statistic) {
    }
}

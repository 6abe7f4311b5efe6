package io.rechannel.pipeline;

import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.Statistic;
import io.rechannel.format.NamedTensor;
import io.rechannel.graph.Consumer;

/**
 * A tensor the adaptation changes, with the view of its input-channel axis.
 *
 * @param consumer  the layer it belongs to, with where that layer reads the input's channels
 * @param layer     the tensor as its format describes it in the layer
 * @param view      its input-channel axis: what lies outside, the axis, what lies inside, and the layer's segment
 * @param dim       the dimension of its shape holding that axis (folded with positions behind a flatten)
 * @param change    how it changes
 * @param statistic for a constant of the first normalisation, the statistic it holds (the user's statistics go
 *                  there for new channels); else null
 */
public record PlannedTensor(Consumer consumer, LayerTensor layer, AxisView view, int dim, Change change,
                            Statistic statistic) {

    /** How a planned tensor changes. */
    public enum Change {
        /** Mixed by the channel map: each new channel's slice is the map's combination of the old ones. */
        MIX,
        /** Copied along the map's pattern (a separable convolution's depthwise filters: one per channel, unmixed). */
        PATTERN,
        /** Per-channel constants, re-indexed; new channels take the user's statistics or the map's copy. */
        CONSTANT,
        /** Optimizer state of a kernel, re-indexed; new channels start at zero. */
        STATE
    }

    public NamedTensor tensor() {
        return layer.tensor();
    }

    public String name() {
        return layer.tensor().name();
    }

    /** The layer's id in the graph. */
    public String node() {
        return consumer.node().id();
    }

    /** The map along this layer's segment of the input's channels. */
    public ChannelMap sliced(ChannelMap map) {
        return consumer.segment().map(map);
    }

    /** The tensor's shape once its segment holds {@code newCount} channels (a scalar stays one). */
    public long[] newShape(int newCount) {
        long[] shape = tensor().shape();
        return shape.length == 0 ? shape : view.resizedShape(shape, dim, newCount);
    }

    /** True when this and {@code other} are the same tensor of the same layer in two versions of one model. */
    boolean pairs(PlannedTensor other) {
        return other.node().equals(node()) && other.layer.key().equals(layer.key()) && other.change == change;
    }
}

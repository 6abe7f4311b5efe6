package io.rechannel.pipeline;

import io.rechannel.core.Statistic;
import io.rechannel.graph.Consumer;

/**
 * Per-channel values recorded in a layer's description that the adaptation re-indexes.
 *
 * @param statistic the statistic they hold when the layer is the first normalisation, else null
 */
public record PlannedList(Consumer consumer, RecordedList list, Statistic statistic) {

    public String node() {
        return consumer.node().id();
    }
}

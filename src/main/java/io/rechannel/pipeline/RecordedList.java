package io.rechannel.pipeline;

import io.rechannel.core.Statistic;

/**
 * Per-channel values a layer records in its description rather than as a tensor (Keras Rescaling's
 * {@code scale}, a Normalization's {@code mean} in its config).
 *
 * @param key       where the layer records them
 * @param values    the values, one per channel the layer reads
 * @param statistic what they hold if the layer is the first normalisation, else null
 */
public record RecordedList(String key, double[] values, Statistic statistic) {

    public RecordedList {
        values = values.clone();
    }

    @Override
    public double[] values() {
        return values.clone();
    }
}

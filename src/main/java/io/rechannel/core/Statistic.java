package io.rechannel.core;

/**
 * Which statistic of its channel a per-channel constant holds, so that the statistics the user gives a new
 * channel ({@link AdaptOptions#stats}) go where they belong: a mean is subtracted, a standard deviation
 * (or its inverse, or the variance) divides.
 */
public enum Statistic {
    MEAN,
    VARIANCE,
    STD,
    INVERSE_STD;

    /** This statistic of {@code stats}. */
    public double of(ChannelStats stats) {
        return switch (this) {
            case MEAN -> stats.mean();
            case VARIANCE -> stats.std() * stats.std();
            case STD -> stats.std();
            case INVERSE_STD -> 1 / stats.std();
        };
    }
}

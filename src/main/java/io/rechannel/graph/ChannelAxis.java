package io.rechannel.graph;

/** Where a tensor keeps its channels: right after the batch axis (NCHW) or last (NHWC). */
public enum ChannelAxis {
    FIRST,
    LAST;

    /** The axis index in a tensor of the given rank (batch axis included). */
    public int index(int rank) {
        return this == FIRST ? 1 : rank - 1;
    }

    /** Resolves an axis number (negative counts from the end) given the tensor rank, if known (else -1). */
    public static ChannelAxis ofIndex(int axis, int rank) {
        if (axis == -1 || (rank > 0 && axis == rank - 1)) {
            return LAST;
        }
        if (axis == 1 || (rank > 0 && axis == 1 - rank)) {
            return rank == 2 ? LAST : FIRST;
        }
        return null;
    }
}

package io.rechannel.graph;

/**
 * Where the adapted input's channels sit in a tensor: on {@code axis} (null while no layer has said),
 * at {@code [offset, offset + count)} of {@code total} channels (-1 when unknown), possibly folded
 * into a feature axis by a flatten. For a flattened segment, {@code axis} tells the order of the
 * folded features: LAST when channels vary fastest (position-major), FIRST when they vary slowest.
 */
public record Segment(ChannelAxis axis, int offset, int total, boolean flattened) {

    public Segment withAxis(ChannelAxis newAxis) {
        return new Segment(newAxis, offset, total, flattened);
    }
}

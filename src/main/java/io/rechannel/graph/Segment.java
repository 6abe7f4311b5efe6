package io.rechannel.graph;

import io.rechannel.core.ChannelMap;

import java.util.List;

/**
 * Where the adapted input's channels sit in a tensor: on {@code axis} (null while no layer has said),
 * as one or more slices of the input's channels starting at {@code offsets} (ascending; several when a
 * concatenation holds the input more than once) among {@code total} channels (-1 when unknown),
 * possibly folded into a feature axis by a flatten. For a flattened segment, {@code axis} tells the
 * order of the folded features: LAST when channels vary fastest (position-major), FIRST when they vary
 * slowest. An offset of -1 means not yet placed: the channel count was unknown when a concatenation was passed.
 */
public record Segment(ChannelAxis axis, List<Integer> offsets, int total, boolean flattened) {

    public Segment {
        offsets = List.copyOf(offsets);
        if (offsets.isEmpty()) {
            throw new IllegalArgumentException("a segment needs at least one slice");
        }
    }

    /** One slice at {@code offset}. */
    public Segment(ChannelAxis axis, int offset, int total, boolean flattened) {
        this(axis, List.of(offset), total, flattened);
    }

    public Segment withAxis(ChannelAxis newAxis) {
        return new Segment(newAxis, offsets, total, flattened);
    }

    /** Where the first slice starts: the start of the span of channels that change. */
    public int offset() {
        return offsets.get(0);
    }

    /** How many slices of the input's channels the tensor holds. */
    public int slices() {
        return offsets.size();
    }

    /** From the start of the first slice to the end of the last, for an input of {@code channels} channels. */
    public int span(int channels) {
        return offsets.get(offsets.size() - 1) + channels - offsets.get(0);
    }

    /** The channel count of this tensor once each slice holds {@code newChannels} instead of {@code channels}. */
    public long resized(long oldTotal, int channels, int newChannels) {
        return oldTotal + (long) slices() * (newChannels - channels);
    }

    /**
     * Where a recorded shape of {@code rank} (batch axis first) holds this segment's channels: the last entry
     * for a flattened tensor, else the entry of the segment's axis ({@code fallback} while none is known).
     */
    public int shapeIndex(int rank, ChannelAxis fallback) {
        return flattened ? rank - 1 : (axis == null ? fallback : axis).index(rank);
    }

    /**
     * A recorded shape's entry at {@link #shapeIndex} once each slice holds {@code newChannels} instead of
     * {@code channels}: the channel count, or for a flattened tensor the feature count (positions × channels).
     */
    public long resizedEntry(long old, int channels, int newChannels) {
        if (!flattened) {
            return resized(old, channels, newChannels);
        }
        int channelTotal = total > 0 ? total : channels;
        return old / channelTotal * resized(channelTotal, channels, newChannels);
    }

    /** The channels of each slice, for messages: {@code 0..2} or {@code 4..6, 10..12}. */
    public String describe(int channels) {
        return String.join(", ", offsets.stream().map(o -> o + ".." + (o + channels - 1)).toList());
    }

    /**
     * The map to apply along this segment's span: {@code map} itself for one slice; for several, {@code map} on
     * every slice and the identity on the channels between them (see {@link ChannelMap#onSlices}).
     */
    public ChannelMap map(ChannelMap map) {
        if (slices() == 1) {
            return map;
        }
        int[] starts = offsets.stream().mapToInt(o -> o - offset()).toArray();
        return map.onSlices(starts, span(map.oldCount()));
    }
}

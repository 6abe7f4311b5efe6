package io.rechannel.core;

/**
 * Where the input channels sit in a flat, row-major weight: the weight is viewed as
 * {@code outer × axisLength × inner}, and the channels that come from the adapted input occupy
 * {@code [offset, offset + count)} of the middle axis (the rest belong to other tensors concatenated
 * with the input, and stay as they are).
 *
 * <p>One view covers every layout: HWIO kernels (outer = kh·kw, inner = out), OIHW (outer = out,
 * inner = kh·kw), Conv1D/Conv3D, dense kernels (outer = 1), dense kernels behind a channels-last
 * flatten (outer = positions), 1-D per-channel constants (outer = inner = 1).
 */
public record AxisView(long outer, int axisLength, long inner, int offset, int count) {

    public AxisView {
        if (outer < 1 || inner < 1 || axisLength < 1) {
            throw new IllegalArgumentException("empty axis view " + outer + "x" + axisLength + "x" + inner);
        }
        if (offset < 0 || count < 1 || offset + count > axisLength) {
            throw new IllegalArgumentException("channel segment [" + offset + ", " + (offset + count)
                    + ") outside an axis of " + axisLength);
        }
    }

    /** The whole axis holds the adapted channels. */
    public static AxisView whole(long outer, int axisLength, long inner) {
        return new AxisView(outer, axisLength, inner, 0, axisLength);
    }

    /** Views a tensor of the given shape with channels on {@code axis}. */
    public static AxisView of(long[] shape, int axis) {
        long outer = 1;
        long inner = 1;
        for (int d = 0; d < axis; d++) {
            outer = Math.multiplyExact(outer, shape[d]);
        }
        for (int d = axis + 1; d < shape.length; d++) {
            inner = Math.multiplyExact(inner, shape[d]);
        }
        return whole(outer, Math.toIntExact(shape[axis]), inner);
    }

    public long size() {
        return Math.multiplyExact(Math.multiplyExact(outer, (long) axisLength), inner);
    }

    /** Sets every value of channel {@code channel} of the segment (counted from its start) in a tensor so viewed. */
    public void fillChannel(double[] values, int channel, double value) {
        for (long o = 0; o < outer; o++) {
            long base = (o * axisLength + offset + channel) * inner;
            for (long k = 0; k < inner; k++) {
                values[Math.toIntExact(base + k)] = value;
            }
        }
    }

    /** The same tensor with only the first {@code channels} channels of the segment in view. */
    public AxisView firstChannels(int channels) {
        return new AxisView(outer, axisLength, inner, offset, channels);
    }

    /** The same view after the segment grows or shrinks to {@code newCount} channels. */
    public AxisView withCount(int newCount) {
        return new AxisView(outer, axisLength - count + newCount, inner, offset, newCount);
    }

    /**
     * The shape of a tensor so viewed, whose dimension {@code dim} holds the axis (for a dense kernel behind a
     * flatten, folded with the positions), once the segment holds {@code newCount} channels.
     */
    public long[] resizedShape(long[] shape, int dim, int newCount) {
        long[] resized = shape.clone();
        resized[dim] = shape[dim] / axisLength * withCount(newCount).axisLength();
        return resized;
    }
}

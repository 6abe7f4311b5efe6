package io.rechannel.graph;

import io.rechannel.core.AxisView;
import io.rechannel.core.RechannelException;

import java.util.function.ToIntFunction;

/**
 * The steps of planning an adaptation that every format with a model graph takes alike: how many channels the
 * input has, and how each weight reading them is viewed along its input-channel axis.
 */
public final class ChannelPlanning {

    private ChannelPlanning() {
    }

    /** An input's dependency, with its channel count. */
    public record AnalysedInput(ChannelDependency dependency, int channels) {
    }

    /**
     * Analyses the input {@code name} (null: the only one). Its channel count is the one its declared shape
     * gives (unless {@code trustDeclared} is false: a borrowed config describes another file), or else the input
     * channels of the first layer reading the input itself, which {@code kernelChannels} reads from its weight.
     */
    public static AnalysedInput analyse(ChannelAnalysis analysis, String name, boolean trustDeclared,
                                        ToIntFunction<Consumer> kernelChannels, String source) {
        Node input = analysis.chooseInput(name);
        ChannelDependency first = analysis.analyse(input, -1);
        int channels = trustDeclared ? declaredChannels(input, first.axis(), source) : -1;
        if (channels < 0) {
            Consumer reader = first.consumers().stream()
                    .filter(c -> c.segment().offset() == 0 && c.segment().slices() == 1 && !c.segment().flattened())
                    .findFirst().orElseThrow(() -> RechannelException.unsupported(source
                            + ": the model does not declare how many channels input '" + input.id() + "' has"));
            channels = kernelChannels.applyAsInt(reader);
        }
        return new AnalysedInput(analysis.analyse(input, channels), channels);
    }

    /** The channel count the input's declared shape gives on {@code axis}, or -1 when it gives none. */
    static int declaredChannels(Node input, ChannelAxis axis, String source) {
        long[] shape = input.declaredShape().orElse(null);
        if (shape == null || shape.length < 2) {
            return -1;
        }
        long count = shape[axis.index(shape.length)];
        if (count > Integer.MAX_VALUE) {
            throw RechannelException.malformed(source + ": input '" + input.id() + "' declares " + count + " channels");
        }
        return count > 0 ? (int) count : -1;
    }

    /**
     * The consumer's span of a weight's whole input-channel axis: from its first slice of the input's
     * {@code channels} to the end of its last.
     *
     * @param what names the weight in messages ({@code model.h5: layer 'conv' kernel [3, 3, 3, 8]})
     */
    public static AxisView span(AxisView whole, Consumer consumer, int channels, String what) {
        Segment segment = consumer.segment();
        if (segment.offset() < 0 || segment.offset() + segment.span(channels) > whole.axisLength()) {
            throw RechannelException.malformed(what + " has " + whole.axisLength() + " input channels, too few for the"
                    + " input's " + channels + " at " + segment.offsets());
        }
        return new AxisView(whole.outer(), whole.axisLength(), whole.inner(), segment.offset(), segment.span(channels));
    }

    /**
     * A dense kernel reading a flattened tensor: its {@code features} rows (columns when {@code transposed}) fold
     * positions with channels, channels fastest when the segment's axis is LAST (a channels-last flatten).
     */
    public static AxisView flattenedDense(long features, long outputs, boolean transposed, Consumer consumer, int channels,
                                          String what) {
        Segment segment = consumer.segment();
        int total = segment.total() > 0 ? segment.total() : channels;
        if (features % total != 0) {
            throw RechannelException.malformed(what + " has " + features + " input features, not a multiple of the "
                    + total + " channels it flattens");
        }
        long positions = features / total;
        boolean channelsFastest = segment.axis() == ChannelAxis.LAST;
        AxisView whole;
        if (transposed) {
            whole = channelsFastest ? AxisView.whole(outputs * positions, total, 1) : AxisView.whole(outputs, total, positions);
        } else {
            whole = channelsFastest ? AxisView.whole(positions, total, outputs) : AxisView.whole(1, total, positions * outputs);
        }
        return span(whole, consumer, channels, what);
    }
}

package io.rechannel.format;

import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * What a model expects at one input, whatever its format: the channels in order, by name, and the
 * preprocessing that must happen outside the model. Values are fed as {@code (x - mean) / std} per channel,
 * {@code x} in the units the convention names ({@code 0-255} for images); {@code mean}/{@code std} are null
 * when the convention is unknown. {@code inside} lists the preprocessing already in the model.
 *
 * <p><b>How a format supplies it.</b> {@code inspect}: one contract per input in {@link Inspection#contracts()},
 * its channels named by {@code --from} when given (else as the format names them: {@code B,G,R} for a caffe-style
 * Keras model, the default layout otherwise). {@code extend}: the original's contract {@link #extended} by the
 * channel map, in {@link AdaptResult#withContract}; {@link CheckedExtend} writes it beside the output as
 * {@code OUT.input.json} (committed with the output, or not at all) and the CLI prints {@link #describe()} and
 * puts it in {@code --json}. A format with nothing to say returns no contract (null), and nothing is written.
 * The JSON fields are the record's components; the README documents them. Known conventions are the
 * {@link Convention} constants, so that every format (and a future {@code --norm NAME}) gives the same numbers.
 *
 * @param input      the input's name
 * @param layout     {@code channels_last} or {@code channels_first}
 * @param channels   the channel names, in the order the input takes them
 * @param convention a {@link Convention}'s {@code id}: {@code caffe}, {@code tf}, {@code torch}, {@code in-model},
 *                   or {@code unknown}
 * @param units      the range of the raw values the mean and std apply to, e.g. {@code 0-255}
 * @param mean       per channel, subtracted outside the model; null when unknown
 * @param std        per channel, divided by outside the model; null when unknown
 * @param inside     the preprocessing layers or nodes inside the model, one line each
 * @param notes      how to feed the model, one line each
 */
public record InputContract(String input, String layout, List<String> channels, String convention, String units,
                            List<Double> mean, List<Double> std, List<String> inside, List<String> notes) {

    /**
     * The preprocessing conventions of pretrained models, on 8-bit images (0-255). The three-channel
     * constants are in the order the model takes its channels (BGR for caffe, RGB for torch).
     */
    public enum Convention {
        /** keras.applications' caffe mode (VGG, ResNet v1): B, G, R order, ImageNet means subtracted, no scaling. */
        CAFFE("caffe", new double[] {103.939, 116.779, 123.68}, new double[] {1, 1, 1}),
        /** keras.applications' tf mode (MobileNet, Inception, Xception, ResNet v2, NASNet): scaled to [-1, 1]. */
        TF("tf", new double[] {127.5}, new double[] {127.5}),
        /** torchvision's and timm's ImageNet mean and std (keras.applications' torch mode: DenseNet), × 255. */
        TORCH("torch", new double[] {123.675, 116.28, 103.53}, new double[] {58.395, 57.12, 57.375}),
        /** The model normalises raw values itself (per-channel layers or nodes at its input). */
        IN_MODEL("in-model", new double[] {0}, new double[] {1}),
        /** Nothing in the file says. */
        UNKNOWN("unknown", null, null);

        private final String id;
        private final double[] mean;
        private final double[] std;

        Convention(String id, double[] mean, double[] std) {
            this.id = id;
            this.mean = mean;
            this.std = std;
        }

        /** The name in the contract's {@code convention} field. */
        public String id() {
            return id;
        }

        /** Per-channel means for {@code channels} channels, or null when this convention has none for that many. */
        public List<Double> mean(int channels) {
            return values(mean, channels);
        }

        /** Per-channel stds for {@code channels} channels, or null when this convention has none for that many. */
        public List<Double> std(int channels) {
            return values(std, channels);
        }

        private static List<Double> values(double[] values, int channels) {
            if (values == null || values.length != 1 && values.length != channels) {
                return null;
            }
            return values.length == 1 ? Collections.nCopies(channels, values[0]) : Arrays.stream(values).boxed().toList();
        }
    }

    public InputContract {
        channels = List.copyOf(channels);
        mean = mean == null ? null : List.copyOf(mean);
        std = std == null ? null : List.copyOf(std);
        inside = List.copyOf(inside);
        notes = List.copyOf(notes);
    }

    /**
     * A contract of a known convention; its mean and std are null (and its units unknown) when the convention
     * has no constants for this many channels.
     */
    public static InputContract of(String input, String layout, List<String> channels, Convention convention,
                                   String units, List<String> inside, List<String> notes) {
        List<Double> mean = convention.mean(channels.size());
        List<Double> std = convention.std(channels.size());
        boolean known = mean != null && std != null;
        return new InputContract(input, layout, channels, convention.id(), known ? units : "unknown", known ? mean : null,
                known ? std : null, inside, notes);
    }

    /**
     * The contract of the adapted model: channels renamed by the map, and each new channel's mean and std
     * by the rule for in-model statistics (a kept channel keeps its own; a new one takes the |M|-weighted
     * average of its sources').
     */
    public InputContract extended(ChannelMap map, List<String> extraNotes) {
        List<String> allNotes = new ArrayList<>(notes);
        allNotes.addAll(extraNotes);
        return new InputContract(input, layout, map.to().names(), convention, units, remap(mean, map), remap(std, map),
                inside, allNotes);
    }

    private static List<Double> remap(List<Double> values, ChannelMap map) {
        if (values == null) {
            return null;
        }
        double[] old = values.stream().mapToDouble(Double::doubleValue).toArray();
        double[] remapped = ChannelMixer.remapConstants(old, AxisView.whole(1, old.length, 1), map);
        return Arrays.stream(remapped).map(v -> Math.round(v * 1e6) / 1e6).boxed().toList();
    }

    /** One line for {@code inspect} and {@code extend}: feed R,G,B,Y as (x - [..]) / [..] on 0-255. */
    public String describe() {
        String how = mean == null ? "preprocessing outside the model unknown"
                : "(x - " + mean + ") / " + std + " per channel, x in " + units;
        return "input '" + input + "' (" + layout + ") takes " + String.join(",", channels) + " in this order; "
                + convention + ": " + how;
    }
}

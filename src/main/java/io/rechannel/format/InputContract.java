package io.rechannel.format;

import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.ChannelStats;
import io.rechannel.core.OptionName;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * What a model expects at one input, whatever its format: the channels in order, by name, and the
 * preprocessing that must happen outside the model. Values are fed as {@code (x - mean) / std} per channel,
 * {@code x} in {@code units}; {@code mean}/{@code std} are null when the preprocessing outside the model is
 * unknown. {@code inside} lists the preprocessing already in the model.
 *
 * <p><b>How a format supplies it.</b> {@code inspect}: one contract per input in {@link Inspection#contracts()},
 * its channels named by {@code --from} when given (else as the format names them: {@code B,G,R} for a caffe-style
 * Keras model, the default layout otherwise). {@code extend}: the original's contract {@link #extended} by the
 * channel map, in {@link AdaptResult#withContract}, {@link #baked} when {@code --bake-preprocessing} put its outside
 * preprocessing into the model; {@link CheckedExtend} writes it beside the output as {@code OUT.input.json}
 * (committed with the output, or not at all) and the CLI prints {@link #describe()} and puts it in {@code --json}.
 * The outside preprocessing comes as an {@link OutsideNorm}: what the file records (a known {@link Convention},
 * {@link RecordedNorm} metadata) or what {@code --norm} states. The JSON fields are the record's components; the
 * README documents them.
 *
 * @param input      the input's name
 * @param layout     {@code channels_last} (NHWC for images) or {@code channels_first} (NCHW)
 * @param channels   the channel names, in the order the input takes them
 * @param convention where the outside preprocessing comes from: {@code caffe}, {@code tf}, {@code torch} (keras.applications),
 *                   {@code in-model} (the model normalises raw values itself), {@code imagenet}, {@code inception},
 *                   {@code clip}, {@code custom} ({@code --norm}), {@code metadata} (recorded in the file), {@code raw}
 *                   (rechannel put it into the model: {@code --bake-preprocessing}), or {@code unknown}
 * @param units      the range of the raw values the mean and std apply to, e.g. {@code 0-255}; {@code unknown}
 * @param mean       per channel, subtracted outside the model; null when unknown
 * @param std        per channel, divided by outside the model; null when unknown
 * @param source     what says so: the model's name, {@code --norm}, a metadata key, or that the file does not record it
 * @param baked      true when rechannel inserted the outside preprocessing into the model ({@code --bake-preprocessing})
 * @param inside     the preprocessing layers or nodes inside the model, one line each
 * @param notes      how to feed the model, one line each
 */
public record InputContract(String input, String layout, List<String> channels, String convention, String units,
                            List<Double> mean, List<Double> std, String source, boolean baked, List<String> inside,
                            List<String> notes) {

    public static final String CHANNELS_FIRST = "channels_first";
    public static final String CHANNELS_LAST = "channels_last";

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
        return of(input, layout, channels, OutsideNorm.of(convention, units, channels.size(), "the " + convention.id()
                + " convention"), inside, notes);
    }

    /** A contract whose outside preprocessing is {@code outside}. */
    public static InputContract of(String input, String layout, List<String> channels, OutsideNorm outside,
                                   List<String> inside, List<String> notes) {
        List<String> allNotes = new ArrayList<>(outside.notes());
        allNotes.addAll(notes);
        return new InputContract(input, layout, channels, outside.convention(), outside.units(), outside.mean(),
                outside.std(), outside.source(), false, inside, allNotes);
    }

    /**
     * Why a model recognised as caffe-style ({@code name} matched; its first channel is blue) is not adapted until
     * the user says what its channels are with {@code option} ({@code --from}, or transfer's {@code --from-channels}).
     */
    public static String unstatedBgr(String source, String name, String option) {
        return source + ": '" + name + "' looks like a caffe-style keras.applications model, whose first channel is"
                + " blue: pass " + option + " BGR (the usual meaning) or " + option + " RGB (to take the channels as they are)";
    }

    /** The note for a map that changes the channels: feed them in their new order. */
    public static List<String> orderNotes(ChannelMap map) {
        if (map.from().equals(map.to())) {
            return List.of();
        }
        return List.of("feed " + String.join(",", map.to().names()) + " in this order, with the means and stds above");
    }

    /** As {@link #extended(ChannelMap, List, Map)} without statistics of the user's own. */
    public InputContract extended(ChannelMap map, List<String> extraNotes) {
        return extended(map, extraNotes, Map.of());
    }

    /**
     * The contract of the adapted model: channels renamed by the map, and each new channel's mean and std
     * by the rule for in-model statistics (a kept channel keeps its own; a new one takes the |M|-weighted
     * average of its sources'), or {@code stats} where given for it (null: they went to a layer inside).
     */
    public InputContract extended(ChannelMap map, List<String> extraNotes, Map<String, ChannelStats> stats) {
        List<String> allNotes = new ArrayList<>(notes);
        allNotes.addAll(extraNotes);
        List<Double> newMean = remap(mean, map);
        List<Double> newStd = remap(std, map);
        if (newMean != null && stats != null && !stats.isEmpty()) {
            Double[] m = newMean.toArray(Double[]::new);
            Double[] s = newStd.toArray(Double[]::new);
            stats.forEach((name, st) -> {
                int j = map.to().indexOf(name);
                m[j] = st.mean();
                s[j] = st.std();
            });
            newMean = Arrays.asList(m);
            newStd = Arrays.asList(s);
            allNotes.add("--stats " + String.join(", ", stats.keySet()) + ": their mean and std as given, in " + units);
        }
        return new InputContract(input, layout, map.to().names(), convention, units, newMean, newStd, source, baked,
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

    /** True when something must be done to the values outside the model (a mean to subtract or a std to divide by). */
    public boolean hasOutsideArithmetic() {
        return mean != null && (mean.stream().anyMatch(v -> v != 0) || std.stream().anyMatch(v -> v != 1));
    }

    /**
     * Refuses {@code --bake-preprocessing} where there is nothing known to bake (exit 2): the outside preprocessing
     * is unknown, or the model already takes raw values.
     */
    public void checkBakeable(String file) {
        if (mean == null) {
            throw io.rechannel.core.RechannelException.usage(file + ": " + OptionName.BAKE + ": what the model expects outside"
                    + " itself is not known (" + source + "); state it with " + OptionName.NORM);
        }
        if (baked || !hasOutsideArithmetic()) {
            throw io.rechannel.core.RechannelException.usage(file + ": " + OptionName.BAKE + ": nothing to bake, the model"
                    + " already takes raw values (" + convention + ", " + source + ")");
        }
    }

    /**
     * The contract once the outside preprocessing is inside the model as {@code layers} (one line each): raw
     * values in the same units and channel order, nothing to do outside.
     */
    public InputContract baked(List<String> layers) {
        List<String> newInside = new ArrayList<>(layers);
        newInside.addAll(inside);
        List<String> newNotes = new ArrayList<>();
        newNotes.add("feed raw values, " + String.join(",", channels) + " in this order, x in " + units
                + "; the model subtracts " + mean + " and divides by " + std + " itself (" + convention
                + " preprocessing, put in by --bake-preprocessing); apply no preprocessing outside the model");
        int n = channels.size();
        return new InputContract(input, layout, channels, "raw", units, Collections.nCopies(n, 0.0),
                Collections.nCopies(n, 1.0), "--bake-preprocessing (was " + convention + ", " + source + ")", true,
                newInside, newNotes);
    }

    /** One line for {@code inspect} and {@code extend}: feed R,G,B,Y as (x - [..]) / [..] on 0-255. */
    public String describe() {
        String how;
        if (mean == null) {
            how = "preprocessing outside the model unknown (" + source + ")";
        } else if (!hasOutsideArithmetic()) {
            how = "raw values" + (units.equals("unknown") ? " (their range is not recorded)" : ", x in " + units)
                    + ", no preprocessing outside the model";
        } else {
            how = "(x - " + mean + ") / " + std + " per channel, x in " + units;
        }
        return "input '" + input + "' (" + layout + ") takes " + String.join(",", channels) + " in this order; "
                + convention + ": " + how;
    }
}

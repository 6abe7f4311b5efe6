package io.rechannel.core;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The normalisation applied outside the original model, before its input ({@code --norm}): feed
 * {@code (x - mean) / std} per channel, {@code x} in {@code units}, the values in the original model's channel
 * order. Presets are timm's constants ({@code imagenet}, {@code inception}, {@code clip}) on images scaled to
 * 0-1; {@code MEAN/STD} gives one's own, e.g. {@code 0.485,0.456,0.406/0.229,0.224,0.225}.
 *
 * @param name  the preset's name, or {@code custom}
 * @param mean  per channel (or one value for every channel)
 * @param std   per channel (or one value for every channel), each positive
 * @param units the range of {@code x} the constants apply to
 */
public record NormSpec(String name, List<Double> mean, List<Double> std, String units) {

    /** The units of values given as MEAN/STD: the user's own. */
    public static final String GIVEN_UNITS = "the units of --norm's values";

    public NormSpec {
        mean = List.copyOf(mean);
        std = List.copyOf(std);
    }

    public static NormSpec parse(String spec) {
        String text = spec.trim();
        switch (text.toLowerCase(Locale.ROOT)) {
            case "imagenet" -> {
                return new NormSpec("imagenet", List.of(0.485, 0.456, 0.406), List.of(0.229, 0.224, 0.225), "0-1");
            }
            case "inception" -> {
                return new NormSpec("inception", List.of(0.5, 0.5, 0.5), List.of(0.5, 0.5, 0.5), "0-1");
            }
            case "clip" -> {
                return new NormSpec("clip", List.of(0.48145466, 0.4578275, 0.40821073),
                        List.of(0.26862954, 0.26130258, 0.27577711), "0-1");
            }
            default -> {
            }
        }
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw RechannelException.usage(OptionName.NORM + " " + spec + ": give imagenet, inception, clip or MEAN/STD"
                    + " (e.g. 0.485,0.456,0.406/0.229,0.224,0.225)");
        }
        List<Double> mean = numbers(spec, text.substring(0, slash), false);
        List<Double> std = numbers(spec, text.substring(slash + 1), true);
        if (mean.size() != std.size() && mean.size() != 1 && std.size() != 1) {
            throw RechannelException.usage(OptionName.NORM + " " + spec + ": " + mean.size() + " means but " + std.size() + " stds");
        }
        return new NormSpec("custom", mean, std, GIVEN_UNITS);
    }

    private static List<Double> numbers(String spec, String list, boolean positive) {
        String[] parts = list.split(",");
        Double[] values = new Double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            double value;
            try {
                value = Double.parseDouble(parts[i].trim());
            } catch (NumberFormatException e) {
                throw RechannelException.usage(OptionName.NORM + " " + spec + ": '" + parts[i].trim() + "' is not a number");
            }
            // NaN compares false with everything, so each test is written to fail for it
            if (!Double.isFinite(value) || positive && !(value > 0)) {
                throw RechannelException.usage(OptionName.NORM + " " + spec + ": " + parts[i].trim() + " is not a "
                        + (positive ? "positive " : "") + "finite number" + (positive ? " (a std divides)" : ""));
            }
            values[i] = value;
        }
        return Arrays.asList(values);
    }

    /** The means for a model of {@code channels} channels; a single value repeats. */
    public List<Double> meanFor(int channels, String source) {
        return sized(mean, channels, source);
    }

    /** The stds for a model of {@code channels} channels; a single value repeats. */
    public List<Double> stdFor(int channels, String source) {
        return sized(std, channels, source);
    }

    private List<Double> sized(List<Double> values, int channels, String source) {
        if (values.size() == 1) {
            return java.util.Collections.nCopies(channels, values.get(0));
        }
        if (values.size() != channels) {
            throw RechannelException.usage(source + ": " + OptionName.NORM + " " + this + " gives " + values.size()
                    + " values per statistic, but the model's input has " + channels + " channels");
        }
        return values;
    }

    /** As given on the command line: the preset's name, or MEAN/STD. */
    @Override
    public String toString() {
        if (!name.equals("custom")) {
            return name;
        }
        return join(mean) + "/" + join(std);
    }

    private static String join(List<Double> values) {
        return String.join(",", values.stream().map(v -> v == Math.rint(v) && Math.abs(v) < 1e15
                ? String.valueOf(v.longValue()) : String.valueOf(v)).toList());
    }
}

package io.rechannel.format;

import io.rechannel.core.NormSpec;
import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;

import java.util.List;

/**
 * The preprocessing a model expects outside itself, as one format found it (a keras.applications name, ONNX
 * metadata, a state dict's recorded config) or the user stated it ({@code --norm}); see {@link InputContract}
 * for the fields.
 *
 * @param notes lines for the contract's notes (e.g. what the file does not record)
 */
public record OutsideNorm(String convention, String units, List<Double> mean, List<Double> std, String source,
                          List<String> notes) {

    public OutsideNorm {
        mean = mean == null ? null : List.copyOf(mean);
        std = std == null ? null : List.copyOf(std);
        notes = List.copyOf(notes);
    }

    public boolean known() {
        return mean != null;
    }

    /** Nothing says what the model expects: {@code why} says what was looked at. */
    public static OutsideNorm unknown(String why) {
        return new OutsideNorm("unknown", "unknown", null, null, why, List.of());
    }

    /**
     * A known convention's constants for {@code channels} channels, {@code source} saying what names it; unknown
     * (keeping the convention's name) when it has no constants for that many channels.
     */
    public static OutsideNorm of(InputContract.Convention convention, String units, int channels, String source) {
        List<Double> mean = convention.mean(channels);
        List<Double> std = convention.std(channels);
        boolean known = mean != null && std != null;
        return new OutsideNorm(convention.id(), known ? units : "unknown", known ? mean : null, known ? std : null, source,
                List.of());
    }

    /** What {@code --norm} states, for a model of {@code channels} channels. */
    public static OutsideNorm of(NormSpec norm, int channels, String file) {
        return new OutsideNorm(norm.name(), norm.units(), norm.meanFor(channels, file), norm.stdFor(channels, file),
                "--norm " + norm, List.of());
    }

    /**
     * The outside preprocessing: what the file records, or {@code norm} where it records nothing. Where both
     * speak they must agree (the same means and stds, within rounding), else the run stops (exit 2) naming both.
     */
    public static OutsideNorm resolve(OutsideNorm recorded, NormSpec norm, int channels, String file) {
        if (norm == null) {
            return recorded;
        }
        OutsideNorm given = of(norm, channels, file);
        if (!recorded.known()) {
            return given;
        }
        if (close(recorded.mean(), given.mean()) && close(recorded.std(), given.std())) {
            return recorded;
        }
        throw RechannelException.usage(file + ": " + OptionName.NORM + " " + norm + " (mean " + given.mean() + ", std " + given.std()
                + ") contradicts what " + recorded.source() + " says the model expects (" + recorded.convention() + ": mean "
                + recorded.mean() + ", std " + recorded.std() + ", x in " + recorded.units() + "); drop " + OptionName.NORM);
    }

    private static boolean close(List<Double> a, List<Double> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (Math.abs(a.get(i) - b.get(i)) > 1e-6 * Math.max(1, Math.abs(a.get(i)))) {
                return false;
            }
        }
        return true;
    }
}

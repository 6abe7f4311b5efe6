package io.rechannel.format;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.Blocks;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.Mixing;
import io.rechannel.core.RechannelException;
import io.rechannel.core.StoredTensor;
import io.rechannel.verify.Verifier;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The checks {@code verify} makes, the same for every format, and its report. A format finds the tensors in
 * both models (the adapted weights and their counterparts, the per-channel constants, everything else) and
 * hands them here: every tap of a mixed weight must give on x' what the original gives on Mᵀx', a channel kept
 * by name keeps its constants (and optimizer state) exactly, every other tensor is bit-identical, and nothing
 * changed may hold NaN or infinity. A model whose channel count disagrees with the map is a problem reported,
 * like any other difference.
 */
public final class Verification {

    /** The seed of the random channel vectors the taps are checked on. */
    private static final long TRIAL_SEED = 17;

    private final String original;
    private final String adapted;
    private final List<VerifyResult.LayerCheck> layers = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private long identical;
    private ChannelMap map;

    /** Verification of {@code adapted} against {@code original}, named as messages name them. */
    public Verification(String original, String adapted) {
        this.original = original;
        this.adapted = adapted;
    }

    /** Recovers the channel map from the first adapted weight, when the options do not give it. */
    @FunctionalInterface
    public interface Recovery {
        /** The map from {@code from} to {@code to} that the weights show; null when the weight is not found (a problem recorded). */
        ChannelMap recover(ChannelLayout from, ChannelLayout to);
    }

    /**
     * The map the adapted model is checked against: the options' map, which must make the adapted input's
     * {@code newCount} channels (otherwise a problem, and null), or the one recovered from the weights
     * ({@code reader} names the weight in messages).
     */
    public ChannelMap channelMap(AdaptOptions options, int oldCount, int newCount, String reader, Recovery recovery) {
        if (options.hasMap()) {
            ChannelMap given = options.channelMap(oldCount, original);
            if (given.newCount() != newCount) {
                problem(adapted + ": its input has " + newCount + " channels; the map " + given.from() + " -> " + given.to()
                        + " makes " + given.newCount());
                return null;
            }
            map = given;
            return map;
        }
        ChannelLayout from = options.fromLayout(oldCount);
        try {
            map = recovery.recover(from, from.resized(newCount));
        } catch (RechannelException e) {
            throw new RechannelException(e.kind(), adapted + ": " + reader + ": " + e.getMessage(), e);
        }
        return map;
    }

    /** Checks every tap of a mixed weight, read block by block from both models. */
    public void taps(String layer, String weight, StoredTensor before, StoredTensor after, ChannelMap sliced) {
        taps(layer, weight, before, after, sliced, Verifier.RELATIVE_TOLERANCE);
    }

    /** As {@link #taps(String, String, StoredTensor, StoredTensor, ChannelMap)}, within {@code tolerance} (half precision). */
    public void taps(String layer, String weight, StoredTensor before, StoredTensor after, ChannelMap sliced,
                     double tolerance) {
        taps(layer, weight, Verifier.checkTaps(before, after, sliced, TRIAL_SEED, Blocks.budget()), tolerance);
    }

    /** Checks every tap of a mixed weight held in memory (a separable convolution composed into one kernel). */
    public void taps(String layer, String weight, double[] before, AxisView oldView, double[] after, AxisView newView,
                     ChannelMap sliced, double tolerance) {
        taps(layer, weight, Verifier.checkTaps(before, oldView, after, newView, sliced, TRIAL_SEED), tolerance);
    }

    private void taps(String layer, String weight, Verifier.TapCheck check, double tolerance) {
        if (!check.finite()) {
            problem(layer + "/" + weight + ": the original or adapted weight holds NaN or infinity, which no exact"
                    + " adaptation gives");
        }
        layers.add(new VerifyResult.LayerCheck(layer, weight, check.maxAbsDifference(), check.maxRelativeDifference(),
                check.finite() && check.maxRelativeDifference() <= tolerance, check.provable()));
    }

    /** A check made outside the taps, with its own figures (a baked preprocessing layer). */
    public void check(VerifyResult.LayerCheck check) {
        layers.add(check);
    }

    /** A check of the whole model (a run of both in a runtime), with its own figures. */
    public void wholeModel(VerifyResult.LayerCheck check) {
        layers.add(check);
    }

    /**
     * A channel kept by name keeps its values in {@code tensor} exactly; with {@code newChannelsZero} (optimizer
     * state), a new channel holds zero. The adapted values must be finite. New channels' constants are the
     * user's to choose (their statistics) and are not compared.
     */
    public void keptChannels(String tensor, double[] before, AxisView oldView, double[] after, ChannelMap sliced,
                             boolean newChannelsZero) {
        if (Arrays.stream(after).anyMatch(v -> !Double.isFinite(v))) {
            problem(adapted + ": " + tensor + " holds NaN or infinity");
            return;
        }
        double[] expected = ChannelMixer.remix(before, oldView, Mixing.state(sliced));
        if (expected.length != after.length) {
            problem(adapted + ": " + tensor + " holds " + after.length + " values, not the " + expected.length
                    + " of the original's with " + sliced.newCount() + " channels");
            return;
        }
        AxisView out = oldView.withCount(sliced.newCount());
        for (int j = 0; j < sliced.newCount(); j++) {
            if (!newChannelsZero && sliced.from().indexOf(sliced.to().name(j)) < 0) {
                continue;
            }
            for (long o = 0; o < out.outer(); o++) {
                for (long k = 0; k < out.inner(); k++) {
                    int at = Math.toIntExact((o * out.axisLength() + out.offset() + j) * out.inner() + k);
                    if (Double.compare(expected[at], after[at]) != 0) {
                        problem(adapted + ": " + tensor + ": channel " + sliced.to().name(j) + " should be " + expected[at]
                                + ", is " + after[at]);
                        return;
                    }
                }
            }
        }
    }

    /**
     * A tensor the adaptation does not change: it must be in the adapted model holding the same bytes, except
     * optimizer state where the optimizer state was dropped.
     */
    public void unchanged(String tensor, boolean present, boolean droppedState, BooleanSupplier sameBytes) {
        if (!present) {
            if (!droppedState) {
                problem(adapted + ": " + tensor + " is missing");
            }
        } else if (sameBytes.getAsBoolean()) {
            identical++;
        } else {
            problem(adapted + ": " + tensor + " differs from the original");
        }
    }

    /** The adapted model has no counterpart of a weight or constant that reads the input in the original. */
    public void notReading(String tensor) {
        problem(adapted + ": " + tensor + " does not read the input there");
    }

    /** A difference found. */
    public void problem(String text) {
        problems.add(text);
    }

    /** Something not checked, and why. */
    public void note(String text) {
        notes.add(text);
    }

    public String adapted() {
        return adapted;
    }

    /** The report. */
    public VerifyResult result() {
        return new VerifyResult(original, adapted, map == null ? "?" : map.from().toString(),
                map == null ? "?" : map.to().toString(), map == null ? List.of() : map.rules(), List.copyOf(layers),
                identical, List.copyOf(problems), List.copyOf(notes), map);
    }
}

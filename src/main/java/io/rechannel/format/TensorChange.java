package io.rechannel.format;

import io.rechannel.core.ChannelMap;

import java.util.Arrays;
import java.util.List;

/**
 * One stored tensor that {@code extend} changed, with its shape before and after.
 *
 * @param tensor   the tensor's name in the output (a dataset path, an initializer, a state-dict key)
 * @param oldShape its shape in the input (for a copy made for one reader, the shape of what it copies)
 * @param newShape its shape in the output
 * @param kind     what it holds
 * @param label    how the report says it changed: for a kernel, what the map did to it ({@code reordered},
 *                 {@code copied}, {@code zero}, {@code mixed}, ...); otherwise the kind's own words
 * @param detail   more to say, or null (a copy made for one node of a tensor others share)
 */
public record TensorChange(String tensor, List<Long> oldShape, List<Long> newShape, Kind kind, String label,
                           String detail) {

    /** What a changed tensor holds, which says how it was changed. */
    public enum Kind {
        /** A kernel, mixed by the channel map (its label says how: reordered, copied, zero, mixed). */
        MIXED("mixed"),
        /** Per-channel constants (normalisation statistics), re-indexed. */
        CONSTANTS("per-channel constants"),
        /** Optimizer state of a mixed kernel: kept channels keep theirs, new ones start at zero. */
        OPTIMIZER_STATE("optimizer state");

        private final String text;

        Kind(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    public TensorChange {
        oldShape = List.copyOf(oldShape);
        newShape = List.copyOf(newShape);
        label = label == null ? kind.toString() : label;
    }

    public static TensorChange of(String tensor, long[] oldShape, long[] newShape, Kind kind) {
        return of(tensor, oldShape, newShape, kind, null);
    }

    public static TensorChange of(String tensor, long[] oldShape, long[] newShape, Kind kind, String detail) {
        return new TensorChange(tensor, Arrays.stream(oldShape).boxed().toList(), Arrays.stream(newShape).boxed().toList(),
                kind, null, detail);
    }

    /** A kernel mixed by {@code map}, labelled with what the map did to it ({@link ChannelMap#kernelChange()}). */
    public static TensorChange kernel(String tensor, long[] oldShape, long[] newShape, ChannelMap map) {
        return of(tensor, oldShape, newShape, Kind.MIXED).labelled(map.kernelChange());
    }

    /** The same change, described as {@code how}. */
    public TensorChange labelled(String how) {
        return new TensorChange(tensor, oldShape, newShape, kind, how, detail);
    }

    /** The report's line: {@code conv1/kernel [3, 3, 3, 64] -> [3, 3, 4, 64] (mixed)}. */
    public String describe() {
        return tensor + " " + oldShape + " -> " + newShape + " (" + label + (detail == null ? "" : "; " + detail) + ")";
    }
}

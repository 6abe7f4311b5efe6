package io.rechannel.torch;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelMap;
import io.rechannel.format.ByteRanges;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.Progress;
import io.rechannel.format.TensorStore;
import io.rechannel.format.Verification;
import io.rechannel.format.VerifyResult;
import io.rechannel.verify.Verifier;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Proves that an adapted state dict is the original with its input channels mapped: every mixed weight
 * passes {@link Verifier#checkTaps} (the map given, or recovered from the first weight), kept channels keep
 * their per-channel constants and optimizer state exactly (new channels' state is zero), changed values
 * are finite, and every other tensor is bit-identical.
 */
final class StateDictVerifier {

    private final TensorStore original;
    private final TensorStore adapted;
    private final Map<String, NamedTensor> after = new HashMap<>();
    private final Verification verification;

    StateDictVerifier(TensorStore original, TensorStore adapted) {
        this.original = original;
        this.adapted = adapted;
        this.verification = new Verification(original.file().toString(), adapted.file().toString());
        adapted.tensors().forEach(t -> after.put(t.name(), t));
    }

    VerifyResult verify(AdaptOptions options) {
        boolean dropped = original.hasOptimizer() && !adapted.hasOptimizer();
        StateDictPlanner.Plan plan = new StateDictPlanner(original).plan(options.formatOptions().tensors(), dropped);
        ChannelMap map = channelMap(options, plan);
        Set<String> changed = new HashSet<>();
        plan.all().forEach(t -> changed.add(t.tensor().name()));
        if (map != null) {
            for (StateDictPlanner.Target w : plan.weights()) {
                double[] now = counterpart(w, map);
                if (now != null) {
                    verification.taps(w.tensor().name(), "weight", original.read(w.tensor()), w.view(), now,
                            w.view().withCount(map.newCount()), map, Dtype.of(w.tensor()).relativeTolerance());
                }
            }
            for (StateDictPlanner.Target c : plan.constants()) {
                checkKept(c, map, false);
            }
            for (StateDictPlanner.Target s : plan.slots()) {
                checkKept(s, map, true);
            }
        }
        compareUnchanged(changed, dropped);
        return verification.result();
    }

    /** Every other tensor, byte for byte. */
    private void compareUnchanged(Set<String> changed, boolean dropped) {
        List<NamedTensor> others = original.tensors().stream().filter(t -> !changed.contains(t.name())).toList();
        long total = others.stream().mapToLong(t -> original.raw(t).map(TensorStore.RawRange::length).orElse(0L)).sum();
        try (Progress progress = Progress.of("comparing " + adapted.file().getFileName() + " with the original", total)) {
            for (NamedTensor t : others) {
                NamedTensor now = after.get(t.name());
                verification.unchanged("'" + t.name() + "'", now != null, dropped && t.isOptimizerSlot(),
                        () -> now.dtype().equals(t.dtype()) && Arrays.equals(now.shape(), t.shape())
                                && sameBytes(original.raw(t).orElseThrow(), adapted.raw(now).orElseThrow(), progress));
            }
        }
    }

    private ChannelMap channelMap(AdaptOptions options, StateDictPlanner.Plan plan) {
        StateDictPlanner.Target first = plan.weights().get(0);
        NamedTensor now = after.get(first.tensor().name());
        if (now == null || now.shape().length != first.tensor().shape().length) {
            verification.problem(verification.adapted() + ": no tensor '" + first.tensor().name() + "' of rank "
                    + first.tensor().shape().length);
            return null;
        }
        int newCount = Math.toIntExact(now.shape()[1]);
        return verification.channelMap(options, plan.channels(), newCount, "'" + first.tensor().name() + "'",
                (from, to) -> Verifier.recover(original.read(first.tensor()), first.view(), adapted.read(now),
                        first.view().withCount(newCount), from, to));
    }

    /** The adapted values of a planned tensor, when its shape is the original's with the map's channel count. */
    private double[] counterpart(StateDictPlanner.Target target, ChannelMap map) {
        NamedTensor now = after.get(target.tensor().name());
        long[] expected = target.view().resizedShape(target.tensor().shape(), target.axis(), map.newCount());
        if (now == null || !Arrays.equals(now.shape(), expected) || !now.dtype().equals(target.tensor().dtype())) {
            verification.problem(verification.adapted() + ": '" + target.tensor().name() + "' should be "
                    + target.tensor().dtype() + " " + Arrays.toString(expected) + ", is "
                    + (now == null ? "missing" : now.dtype() + " " + now.shapeList()));
            return null;
        }
        return adapted.read(now);
    }

    /**
     * A channel kept by name keeps its constants (or optimizer state) exactly; optimizer state of a new
     * channel is zero. New channels' constants are the user's to choose ({@link AdaptOptions#stats}).
     */
    private void checkKept(StateDictPlanner.Target target, ChannelMap map, boolean state) {
        double[] now = counterpart(target, map);
        if (now != null) {
            verification.keptChannels("'" + target.tensor().name() + "'", original.read(target.tensor()), target.view(),
                    now, map, state);
        }
    }

    private static boolean sameBytes(TensorStore.RawRange a, TensorStore.RawRange b, Progress progress) {
        return a.length() == b.length() && ByteRanges.same(a.file(), a.offset(), b.file(), b.offset(), a.length(), progress);
    }
}

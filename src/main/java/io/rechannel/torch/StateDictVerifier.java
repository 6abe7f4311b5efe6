package io.rechannel.torch;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.Mixing;
import io.rechannel.core.RechannelException;
import io.rechannel.format.ByteRanges;
import io.rechannel.format.Progress;
import io.rechannel.format.VerifyResult;
import io.rechannel.verify.Verifier;

import java.io.IOException;
import java.util.ArrayList;
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
    private final String adaptedName;
    private final Map<String, StoredTensor> after = new HashMap<>();
    private final List<String> problems = new ArrayList<>();

    StateDictVerifier(TensorStore original, TensorStore adapted) {
        this.original = original;
        this.adapted = adapted;
        this.adaptedName = adapted.file().toString();
        adapted.tensors().forEach(t -> after.put(t.name(), t));
    }

    VerifyResult verify(AdaptOptions options) {
        boolean dropped = original.hasOptimizer() && !adapted.hasOptimizer();
        StateDictPlanner.Plan plan = new StateDictPlanner(original).plan(options.tensors(), dropped);
        ChannelMap map = channelMap(options, plan);
        List<VerifyResult.LayerCheck> checks = new ArrayList<>();
        Set<String> changed = new HashSet<>();
        plan.all().forEach(t -> changed.add(t.tensor().name()));
        if (map != null) {
            for (StateDictPlanner.Target w : plan.weights()) {
                double[] now = counterpart(w, map);
                if (now != null) {
                    Verifier.TapCheck check = Verifier.checkTaps(original.read(w.tensor()), w.view(), now,
                            w.view().withCount(map.newCount()), map, 17);
                    boolean passed = check.maxRelativeDifference() <= w.tensor().dtype().relativeTolerance();
                    checks.add(new VerifyResult.LayerCheck(w.tensor().name(), "weight", check.maxAbsDifference(),
                            check.maxRelativeDifference(), passed, check.provable()));
                }
            }
            for (StateDictPlanner.Target c : plan.constants()) {
                checkKept(c, map, false);
            }
            for (StateDictPlanner.Target s : plan.slots()) {
                checkKept(s, map, true);
            }
        }
        long identical = compareUnchanged(changed, dropped);
        String from = map == null ? "?" : map.from().toString();
        String to = map == null ? "?" : map.to().toString();
        return new VerifyResult(original.file().toString(), adaptedName, from, to, map == null ? List.of() : map.rules(),
                checks, identical, List.copyOf(problems));
    }

    private ChannelMap channelMap(AdaptOptions options, StateDictPlanner.Plan plan) {
        StateDictPlanner.Target first = plan.weights().get(0);
        StoredTensor now = after.get(first.tensor().name());
        if (now == null || now.shape().length != first.tensor().shape().length) {
            problems.add(adaptedName + ": no tensor '" + first.tensor().name() + "' of rank " + first.tensor().shape().length);
            return null;
        }
        int newCount = Math.toIntExact(now.shape()[1]);
        if (options.to() != null) {
            ChannelMap map = options.channelMap(plan.channels(), original.file().toString());
            if (map.newCount() != newCount) {
                problems.add(adaptedName + ": '" + first.tensor().name() + "' reads " + newCount + " channels, --to "
                        + map.to() + " has " + map.newCount());
                return null;
            }
            return map;
        }
        ChannelLayout from = options.fromLayout(plan.channels());
        return Verifier.recover(original.read(first.tensor()), first.view(), adapted.read(now),
                first.view().withCount(newCount), from, from.resized(newCount));
    }

    /** The adapted values of a planned tensor, when its shape is the original's with the map's channel count. */
    private double[] counterpart(StateDictPlanner.Target target, ChannelMap map) {
        StoredTensor now = after.get(target.tensor().name());
        long[] expected = target.tensor().shape();
        expected[target.axis()] = map.newCount();
        if (now == null || !Arrays.equals(now.shape(), expected) || now.dtype() != target.tensor().dtype()) {
            problems.add(adaptedName + ": '" + target.tensor().name() + "' should be " + target.tensor().dtype() + " "
                    + Arrays.toString(expected) + ", is " + (now == null ? "missing" : now.dtype() + " " + now.shapeList()));
            return null;
        }
        double[] values = adapted.read(now);
        for (double v : values) {
            if (!Double.isFinite(v)) {
                problems.add(adaptedName + ": '" + now.name() + "' holds " + v);
                return null;
            }
        }
        return values;
    }

    /**
     * A channel kept by name keeps its constants (or optimizer state) exactly; optimizer state of a new
     * channel is zero. New channels' constants are the user's to choose ({@code --stats}) and are not checked.
     */
    private void checkKept(StateDictPlanner.Target target, ChannelMap map, boolean state) {
        double[] now = counterpart(target, map);
        if (now == null) {
            return;
        }
        double[] before = original.read(target.tensor());
        double[] expected = ChannelMixer.remix(before, target.view(), Mixing.state(map));
        AxisView out = target.view().withCount(map.newCount());
        for (int j = 0; j < map.newCount(); j++) {
            boolean kept = map.from().indexOf(map.to().name(j)) >= 0;
            if (!kept && !state) {
                continue;
            }
            for (long o = 0; o < out.outer(); o++) {
                for (long k = 0; k < out.inner(); k++) {
                    int at = Math.toIntExact((o * out.axisLength() + out.offset() + j) * out.inner() + k);
                    if (Double.compare(expected[at], now[at]) != 0) {
                        problems.add(target.tensor().name() + ": channel " + map.to().name(j) + " should be "
                                + expected[at] + ", is " + now[at]);
                        return;
                    }
                }
            }
        }
    }

    /** Compares every other tensor byte for byte; returns how many matched. */
    private long compareUnchanged(Set<String> changed, boolean optimizerDropped) {
        long total = original.tensors().stream().filter(t -> !changed.contains(t.name())).mapToLong(t -> original.raw(t).length()).sum();
        try (Progress progress = Progress.of("comparing " + adapted.file().getFileName() + " with the original", total)) {
            return compareUnchanged(changed, optimizerDropped, progress);
        }
    }

    private long compareUnchanged(Set<String> changed, boolean optimizerDropped, Progress progress) {
        long identical = 0;
        for (StoredTensor t : original.tensors()) {
            if (changed.contains(t.name())) {
                continue;
            }
            StoredTensor now = after.get(t.name());
            if (now == null) {
                if (!(optimizerDropped && t.isOptimizerSlot())) {
                    problems.add(adaptedName + ": '" + t.name() + "' is missing");
                }
                continue;
            }
            if (now.dtype() == t.dtype() && Arrays.equals(now.shape(), t.shape())
                    && sameBytes(original.raw(t), adapted.raw(now), progress)) {
                identical++;
            } else {
                problems.add(adaptedName + ": '" + t.name() + "' differs from the original");
            }
        }
        return identical;
    }

    private static boolean sameBytes(TensorStore.RawRange a, TensorStore.RawRange b, Progress progress) {
        try {
            return a.length() == b.length() && ByteRanges.same(a.file(), a.offset(), b.file(), b.offset(), a.length(), progress);
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, a.file() + ": cannot compare: " + e.getMessage(), e);
        }
    }
}

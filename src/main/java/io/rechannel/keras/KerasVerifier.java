package io.rechannel.keras;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.Blocks;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.RechannelException;
import io.rechannel.core.StoredTensor;
import io.rechannel.core.TensorLayout;
import io.rechannel.format.Progress;
import io.rechannel.format.VerifyResult;
import io.rechannel.hdf5.DatasetInfo;
import io.rechannel.hdf5.Hdf5File;
import io.rechannel.verify.Verifier;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Proves that an adapted Keras file is the original with its input channels mapped: every mixed
 * kernel passes {@link Verifier#checkTaps}, kept channels keep their per-channel constants exactly,
 * and every other stored tensor is bit-identical.
 */
final class KerasVerifier {

    private static final long SLAB_BYTES = 16L << 20;

    private final KerasModelView original;
    private final KerasModelView adapted;
    private final String originalName;
    private final String adaptedName;
    private final List<String> problems = new ArrayList<>();

    KerasVerifier(KerasModelView original, KerasModelView adapted, String originalName, String adaptedName) {
        this.original = original;
        this.adapted = adapted;
        this.originalName = originalName;
        this.adaptedName = adaptedName;
    }

    VerifyResult verify(AdaptOptions options) {
        AdaptOptions analysis = options.analysisOnly();
        KerasPlan before = KerasPlanner.of(original, originalName).plan(analysis);
        KerasPlan after = KerasPlanner.of(adapted, adaptedName).plan(analysis);
        ChannelMap map = channelMap(options, before, after);
        List<VerifyResult.LayerCheck> checks = new ArrayList<>();
        Set<String> changed = new HashSet<>();
        if (map != null) {
            for (KerasPlan.ViewedWeight old : before.mixed()) {
                KerasPlan.ViewedWeight updated = counterpart(after.mixed(), old);
                if (updated == null) {
                    continue;
                }
                changed.add(old.weight().path());
                original.store().optimizerSlots(old.weight()).forEach(s -> changed.add(s.path()));
                if (old.mixing() == KerasPlan.Mixing.PATTERN) {
                    continue; // checked with its pointwise kernel, as one composed kernel
                }
                Verifier.TapCheck check;
                if (old.layer().className().startsWith("SeparableConv")) {
                    Composed a = compose(original.store(), before, old);
                    Composed b = compose(adapted.store(), after, updated);
                    check = Verifier.checkTaps(a.kernel(), a.view(), b.kernel(), b.view(), map, 17);
                } else {
                    check = Verifier.checkTaps(stored(original.store(), old), stored(adapted.store(), updated),
                            old.consumer().segment().map(map), 17, Blocks.budget());
                }
                if (!check.finite()) {
                    problems.add(old.layer().path() + "/" + old.weight().name()
                            + ": the original or adapted kernel holds NaN or infinity, which no exact adaptation gives");
                }
                checks.add(new VerifyResult.LayerCheck(old.layer().path(), old.weight().name(),
                        check.maxAbsDifference(), check.maxRelativeDifference(), check.passed(), check.provable()));
            }
            for (KerasPlan.ViewedWeight old : before.constants()) {
                KerasPlan.ViewedWeight updated = counterpart(after.constants(), old);
                if (updated != null) {
                    changed.add(old.weight().path());
                    checkKeptConstants(old, updated, old.consumer().segment().map(map));
                }
            }
        }
        long identical = compareUnchanged(changed);
        List<String> notes = new ArrayList<>();
        if (map != null) {
            KerasBake.verify(original, before, adapted, after, map, options, originalName, checks, notes);
        }
        return new VerifyResult(originalName, adaptedName, map == null ? "?" : map.from().toString(),
                map == null ? "?" : map.to().toString(), map == null ? List.of() : map.rules(), checks, identical,
                List.copyOf(problems), notes);
    }

    private record Composed(double[] kernel, AxisView view) {
    }

    /** A planned weight, read from its store block by block. */
    private static StoredTensor stored(KerasWeightStore store, KerasPlan.ViewedWeight viewed) {
        return stored(store, viewed, viewed.view());
    }

    private static StoredTensor stored(KerasWeightStore store, KerasPlan.ViewedWeight viewed, AxisView view) {
        return new StoredTensor(TensorLayout.of(viewed.weight().shape(), view, viewed.dim()),
                (slab, into) -> store.readBlock(viewed.weight(), slab, into));
    }

    /**
     * A separable convolution as the one kernel it amounts to: K[p][c][o] = Σ_m D[p][c][m] · P[c·mult + m][o],
     * so that it can be checked like any convolution.
     */
    private static Composed compose(KerasWeightStore store, KerasPlan plan, KerasPlan.ViewedWeight pointwise) {
        KerasPlan.ViewedWeight depthwise = plan.mixed().stream()
                .filter(w -> w.layer().path().equals(pointwise.layer().path()) && w.mixing() == KerasPlan.Mixing.PATTERN)
                .findFirst().orElseThrow();
        double[] d = store.read(depthwise.weight());
        double[] p = store.read(pointwise.weight());
        long[] shape = depthwise.weight().shape();
        int positions = (int) depthwise.view().outer();
        int channels = (int) shape[shape.length - 2];
        int mult = (int) shape[shape.length - 1];
        int out = (int) pointwise.weight().shape()[pointwise.weight().shape().length - 1];
        double[] k = new double[positions * channels * out];
        for (int pos = 0; pos < positions; pos++) {
            for (int c = 0; c < channels; c++) {
                for (int m = 0; m < mult; m++) {
                    double dv = d[(pos * channels + c) * mult + m];
                    for (int o = 0; o < out; o++) {
                        k[(pos * channels + c) * out + o] += dv * p[(c * mult + m) * out + o];
                    }
                }
            }
        }
        return new Composed(k, AxisView.whole(positions, channels, out));
    }

    private ChannelMap channelMap(AdaptOptions options, KerasPlan before, KerasPlan after) {
        int oldCount = before.channels();
        int newCount = after.channels();
        if (options.to() != null) {
            ChannelMap map = options.channelMap(oldCount, originalName);
            if (map.newCount() != newCount) {
                problems.add(adaptedName + ": input has " + newCount + " channels, --to " + map.to() + " has " + map.newCount());
                return null;
            }
            return map;
        }
        ChannelLayout from = options.fromLayout(oldCount);
        ChannelLayout to = from.resized(newCount);
        KerasPlan.ViewedWeight old = before.mixed().stream().filter(w -> w.mixing() == KerasPlan.Mixing.MAP).findFirst().orElseThrow();
        KerasPlan.ViewedWeight updated = counterpart(after.mixed(), old);
        if (updated == null) {
            problems.add(adaptedName + ": layer '" + old.layer().path() + "' does not read the input there");
            return null;
        }
        try {
            if (old.layer().className().startsWith("SeparableConv")) {
                Composed a = compose(original.store(), before, old);
                Composed b = compose(adapted.store(), after, updated);
                return Verifier.recover(a.kernel(), a.view(), b.kernel(), b.view(), from, to);
            }
            // the first slice alone: a layer reading the input more than once repeats the same map
            return Verifier.recover(stored(original.store(), old, old.view().firstChannels(oldCount)),
                    stored(adapted.store(), updated, updated.view().firstChannels(newCount)), from, to, Blocks.budget());
        } catch (RechannelException e) {
            throw new RechannelException(e.kind(), adaptedName + ": layer '" + old.layer().path() + "': " + e.getMessage(), e);
        }
    }

    private KerasPlan.ViewedWeight counterpart(List<KerasPlan.ViewedWeight> candidates, KerasPlan.ViewedWeight old) {
        for (KerasPlan.ViewedWeight c : candidates) {
            if (c.layer().path().equals(old.layer().path()) && c.weight().name().equals(old.weight().name())) {
                return c;
            }
        }
        problems.add(adaptedName + ": no '" + old.weight().name() + "' of layer '" + old.layer().path() + "' reads the input");
        return null;
    }

    /** A channel kept by name must keep its constants exactly. */
    private void checkKeptConstants(KerasPlan.ViewedWeight old, KerasPlan.ViewedWeight updated, ChannelMap map) {
        double[] before = original.store().read(old.weight());
        double[] after = adapted.store().read(updated.weight());
        if (java.util.Arrays.stream(after).anyMatch(v -> !Double.isFinite(v))) {
            problems.add(old.layer().path() + "/" + old.weight().name() + ": holds NaN or infinity");
            return;
        }
        AxisView ov = old.view();
        AxisView nv = updated.view();
        for (int j = 0; j < map.newCount(); j++) {
            int i = map.from().indexOf(map.to().name(j));
            if (i < 0) {
                continue;
            }
            for (long o = 0; o < ov.outer(); o++) {
                for (long k = 0; k < ov.inner(); k++) {
                    double a = before[(int) ((o * ov.axisLength() + ov.offset() + i) * ov.inner() + k)];
                    double b = after[(int) ((o * nv.axisLength() + nv.offset() + j) * nv.inner() + k)];
                    if (Double.compare(a, b) != 0) {
                        problems.add(old.layer().path() + "/" + old.weight().name() + ": channel " + map.to().name(j)
                                + " was " + a + ", is " + b);
                        return;
                    }
                }
            }
        }
    }

    /** Compares every stored tensor outside the adapted ones byte for byte; returns how many matched. */
    private long compareUnchanged(Set<String> changed) {
        Hdf5File a = original.file();
        Hdf5File b = adapted.file();
        List<String> before = a.datasets("/");
        Set<String> after = new HashSet<>(b.datasets("/"));
        boolean optimizerDropped = original.store().hasOptimizer() && !adapted.store().hasOptimizer();
        long identical = 0;
        try (Progress progress = Progress.of("comparing " + Path.of(adaptedName).getFileName() + " with the original",
                a.path().toFile().length())) { // the tensors make up most of the file
            for (String path : before) {
                if (changed.contains(path)) {
                    continue;
                }
                if (!after.contains(path)) {
                    if (!(optimizerDropped && path.startsWith("/optimizer"))) {
                        problems.add(adaptedName + ": " + path + " is missing");
                    }
                    continue;
                }
                if (sameBytes(a, b, path, progress)) {
                    identical++;
                } else {
                    problems.add(adaptedName + ": " + path + " differs from the original");
                }
            }
        }
        return identical;
    }

    private static boolean sameBytes(Hdf5File a, Hdf5File b, String path, Progress progress) {
        DatasetInfo x = a.dataset(path);
        DatasetInfo y = b.dataset(path);
        if (!Arrays.equals(x.shape(), y.shape()) || x.typeClass() != y.typeClass() || x.typeSize() != y.typeSize()) {
            return false;
        }
        if (!x.allocated() && !y.allocated()) {
            // nothing stored: every value is the fill value, whatever the declared size
            return Arrays.equals(a.fillValue(path), b.fillValue(path));
        }
        long rows = x.shape().length == 0 ? 1 : x.shape()[0];
        long rowBytes = Math.max(1, x.elementCount() * x.typeSize() / Math.max(1, rows));
        long step = Math.max(1, SLAB_BYTES / rowBytes);
        for (long start = 0; start < rows; start += step) {
            long count = Math.min(step, rows - start);
            if (!Arrays.equals(a.readRows(path, start, count), b.readRows(path, start, count))) {
                return false;
            }
            progress.advance(count * rowBytes);
        }
        return true;
    }
}

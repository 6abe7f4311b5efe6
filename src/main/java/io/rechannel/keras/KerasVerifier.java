package io.rechannel.keras;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.Blocks;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.StoredTensor;
import io.rechannel.core.TensorLayout;
import io.rechannel.format.Progress;
import io.rechannel.format.Verification;
import io.rechannel.format.VerifyResult;
import io.rechannel.hdf5.DatasetInfo;
import io.rechannel.hdf5.Hdf5File;
import io.rechannel.verify.Verifier;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds, in an original and an adapted Keras file, what {@link Verification} checks: each mixed kernel and
 * its counterpart (a separable convolution composed into the one kernel it amounts to), the per-channel
 * constants, and every other dataset, compared byte for byte.
 */
final class KerasVerifier {

    private static final long SLAB_BYTES = 16L << 20;

    private final KerasModelView original;
    private final KerasModelView adapted;
    private final String originalName;
    private final Verification verification;

    KerasVerifier(KerasModelView original, KerasModelView adapted, String originalName, String adaptedName) {
        this.original = original;
        this.adapted = adapted;
        this.originalName = originalName;
        this.verification = new Verification(originalName, adaptedName);
    }

    VerifyResult verify(AdaptOptions options) {
        AdaptOptions analysis = options.analysisOnly();
        KerasPlan before = KerasPlanner.of(original, originalName).plan(analysis);
        KerasPlan after = KerasPlanner.of(adapted, verification.adapted()).plan(analysis);
        ChannelMap map = channelMap(options, before, after);
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
                String layer = old.layer().path();
                if (old.layer().className().startsWith("SeparableConv")) {
                    Composed a = compose(original.store(), before, old);
                    Composed b = compose(adapted.store(), after, updated);
                    verification.taps(layer, old.weight().name(), a.kernel(), a.view(), b.kernel(), b.view(), map,
                            Verifier.RELATIVE_TOLERANCE);
                } else {
                    verification.taps(layer, old.weight().name(), stored(original.store(), old),
                            stored(adapted.store(), updated), old.consumer().segment().map(map));
                }
            }
            for (KerasPlan.ViewedWeight old : before.constants()) {
                KerasPlan.ViewedWeight updated = counterpart(after.constants(), old);
                if (updated != null) {
                    changed.add(old.weight().path());
                    verification.keptChannels(old.layer().path() + "/" + old.weight().name(),
                            original.store().read(old.weight()), old.view(), adapted.store().read(updated.weight()),
                            old.consumer().segment().map(map), false);
                }
            }
        }
        compareUnchanged(changed);
        if (map != null) {
            KerasBake.verify(original, before, adapted, after, map, options, originalName, verification);
        }
        return verification.result();
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
        KerasPlan.ViewedWeight old = before.mixed().stream().filter(w -> w.mixing() == KerasPlan.Mixing.MAP)
                .findFirst().orElseThrow();
        return verification.channelMap(options, before.channels(), after.channels(), "layer '" + old.layer().path() + "'",
                (from, to) -> {
                    KerasPlan.ViewedWeight updated = counterpart(after.mixed(), old);
                    if (updated == null) {
                        return null;
                    }
                    if (old.layer().className().startsWith("SeparableConv")) {
                        Composed a = compose(original.store(), before, old);
                        Composed b = compose(adapted.store(), after, updated);
                        return Verifier.recover(a.kernel(), a.view(), b.kernel(), b.view(), from, to);
                    }
                    // the first slice alone: a layer reading the input more than once repeats the same map
                    return Verifier.recover(stored(original.store(), old, old.view().firstChannels(from.size())),
                            stored(adapted.store(), updated, updated.view().firstChannels(to.size())), from, to,
                            Blocks.budget());
                });
    }

    private KerasPlan.ViewedWeight counterpart(List<KerasPlan.ViewedWeight> candidates, KerasPlan.ViewedWeight old) {
        for (KerasPlan.ViewedWeight c : candidates) {
            if (c.layer().path().equals(old.layer().path()) && c.weight().name().equals(old.weight().name())) {
                return c;
            }
        }
        verification.notReading("the '" + old.weight().name() + "' of layer '" + old.layer().path() + "'");
        return null;
    }

    /** Every stored dataset outside the adapted ones, byte for byte. */
    private void compareUnchanged(Set<String> changed) {
        Hdf5File a = original.file();
        Hdf5File b = adapted.file();
        // the original first: damage it carries into its copy is reported as the original's
        List<String> before = a.datasets("/");
        Set<String> after = new HashSet<>(b.datasets("/"));
        boolean optimizerDropped = original.store().hasOptimizer() && !adapted.store().hasOptimizer();
        try (Progress progress = Progress.of("comparing " + Path.of(verification.adapted()).getFileName()
                + " with the original", a.path().toFile().length())) { // the tensors make up most of the file
            for (String path : before) {
                if (!changed.contains(path)) {
                    verification.unchanged(path, after.contains(path),
                            optimizerDropped && path.startsWith(original.store().optimizerGroup()),
                            () -> sameBytes(a, b, path, progress));
                }
            }
        }
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

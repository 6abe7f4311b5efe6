package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.Blocks;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.StoredTensor;
import io.rechannel.core.TensorLayout;
import io.rechannel.format.ByteRanges;
import io.rechannel.format.Progress;
import io.rechannel.format.Verification;
import io.rechannel.format.VerifyResult;
import io.rechannel.verify.Verifier;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds, in an original and an adapted ONNX model, what {@link Verification} checks: each mixed weight and its
 * counterpart (read block by block), the per-channel constants in front of them, and every other initializer,
 * compared byte for byte. Then {@link OnnxRuntimeCheck} runs both models where it can, and {@link OnnxBake} checks
 * preprocessing baked into the adapted model.
 */
final class OnnxVerifier {

    private final Path original;
    private final Path adapted;
    private final Verification verification;

    OnnxVerifier(Path original, Path adapted) {
        this.original = original;
        this.adapted = adapted;
        this.verification = new Verification(original.toString(), adapted.toString());
    }

    VerifyResult verify(AdaptOptions options) {
        OnnxModel before = OnnxModel.of(OnnxFile.read(original));
        OnnxModel after = OnnxModel.of(OnnxFile.read(adapted));
        AdaptOptions analysis = options.analysisOnly();
        OnnxPlan oldPlan = OnnxPlan.of(before, analysis, original.toString());
        OnnxPlan newPlan = OnnxPlan.of(after, analysis, adapted.toString());
        ChannelMap map = channelMap(options, oldPlan, newPlan);
        Set<String> changed = new HashSet<>();
        oldPlan.weights().forEach(w -> changed.add(w.source()));
        oldPlan.constants().forEach(c -> changed.add(c.source()));
        if (map != null) {
            for (OnnxPlan.Use old : oldPlan.weights()) {
                OnnxPlan.Use updated = counterpart(newPlan.weights(), old);
                if (updated != null) {
                    verification.taps(old.consumer().node().id(), old.source(), stored(before, old), stored(after, updated),
                            old.consumer().segment().map(map));
                }
            }
            for (OnnxPlan.Use old : oldPlan.constants()) {
                String updated = constantRead(after, old);
                if (updated == null) {
                    verification.notReading("the constant input " + old.input() + " of node '" + old.consumer().node().id() + "'");
                } else {
                    verification.keptChannels("initializer '" + updated + "'", before.constantValues(old.source()),
                            old.view(), after.constantValues(updated), old.consumer().segment().map(map), false);
                }
            }
        }
        compareOthers(before.file(), after.file(), changed);
        if (map != null) {
            new OnnxRuntimeCheck(original, adapted, verification).check(oldPlan, newPlan, map);
            OnnxBake.verify(oldPlan, newPlan, map, options, verification);
        }
        return verification.result();
    }

    private ChannelMap channelMap(AdaptOptions options, OnnxPlan before, OnnxPlan after) {
        OnnxPlan.Use old = before.weights().get(0);
        return verification.channelMap(options, before.channels(), after.channels(), "node '" + old.consumer().node().id() + "'",
                (from, to) -> {
                    OnnxPlan.Use updated = counterpart(after.weights(), old);
                    // the first slice alone: a node reading the input more than once repeats the same map
                    return updated == null ? null : Verifier.recover(stored(before.model(), old,
                            old.view().firstChannels(from.size())), stored(after.model(), updated,
                            updated.view().firstChannels(to.size())), from, to, Blocks.budget());
                });
    }

    /** A planned weight, read from its file block by block. */
    private static StoredTensor stored(OnnxModel model, OnnxPlan.Use use) {
        return stored(model, use, use.view());
    }

    private static StoredTensor stored(OnnxModel model, OnnxPlan.Use use, AxisView view) {
        return new StoredTensor(TensorLayout.of(model.constantShape(use.source()), view, use.dim()),
                TensorData.source(model, use.source()).reader());
    }

    /**
     * The constant the adapted model's node reads where the original's read {@code old}, or null. Looked up by
     * node and input, not in the adapted model's plan: a constant of one channel (RGB to L) is a scalar there.
     */
    private static String constantRead(OnnxModel after, OnnxPlan.Use old) {
        OnnxMl.NodeProto node = after.node(old.consumer().node().id());
        return node == null || old.input() >= node.getInputCount() ? null : after.constantSource(node.getInput(old.input()));
    }

    private OnnxPlan.Use counterpart(List<OnnxPlan.Use> uses, OnnxPlan.Use old) {
        for (OnnxPlan.Use use : uses) {
            if (use.consumer().node().id().equals(old.consumer().node().id()) && use.input() == old.input()) {
                return use;
            }
        }
        verification.notReading("node '" + old.consumer().node().id() + "'");
        return null;
    }

    /** Every initializer outside the adapted ones must hold the same bytes. */
    private void compareOthers(OnnxFile a, OnnxFile b, Set<String> changed) {
        try (Progress progress = Progress.of("comparing " + adapted.getFileName() + " with the original",
                OnnxRuntimeCheck.weightBytes(a))) {
            for (OnnxFile.TensorInfo x : a.initializers().values()) {
                if (!changed.contains(x.name())) {
                    OnnxFile.TensorInfo y = b.initializers().get(x.name());
                    verification.unchanged("initializer '" + x.name() + "'", y != null, false,
                            () -> Arrays.equals(x.dims(), y.dims()) && x.dataType() == y.dataType()
                                    && sameData(a, x, b, y, progress));
                }
            }
        }
    }

    private static boolean sameData(OnnxFile a, OnnxFile.TensorInfo x, OnnxFile b, OnnxFile.TensorInfo y,
                                    Progress progress) {
        if (x.isExternal() != y.isExternal()) {
            return false;
        }
        if (!x.isExternal()) {
            long length = x.span().end() - x.span().start();
            return length == y.span().end() - y.span().start()
                    && ByteRanges.same(a.path(), x.span().start(), b.path(), y.span().start(), length, progress);
        }
        OnnxExternalData xd = OnnxExternalData.of(a, x);
        OnnxExternalData yd = OnnxExternalData.of(b, y);
        return xd.length() == yd.length() && ByteRanges.same(xd.file(), xd.offset(), yd.file(), yd.offset(), xd.length(),
                progress);
    }
}

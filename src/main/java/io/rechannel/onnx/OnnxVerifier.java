package io.rechannel.onnx;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.Blocks;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.RechannelException;
import io.rechannel.core.StoredTensor;
import io.rechannel.core.TensorLayout;
import io.rechannel.format.ByteRanges;
import io.rechannel.format.Progress;
import io.rechannel.format.VerifyResult;
import io.rechannel.verify.Verifier;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Proves an adapted ONNX model: every mixed weight passes {@link Verifier#checkTaps}, every other
 * initializer is bit-identical, and ONNX Runtime gives the same outputs for the adapted model on
 * random x' as for the original on Mᵀx' (when no per-channel constants stand in front of the mixing
 * layers; otherwise the layer-level proof stands alone and the report says so).
 */
final class OnnxVerifier {

    private final Path original;
    private final Path adapted;
    private final List<String> problems = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    private static final java.util.Set<String> AFFINE_PATH = java.util.Set.of(
            "Identity", "Cast", "Transpose", "Flatten", "Sub", "Add", "Mul", "Div", "BatchNormalization");

    OnnxVerifier(Path original, Path adapted) {
        this.original = original;
        this.adapted = adapted;
    }

    VerifyResult verify(AdaptOptions options) {
        OnnxModel before = OnnxModel.of(OnnxFile.read(original));
        OnnxModel after = OnnxModel.of(OnnxFile.read(adapted));
        AdaptOptions analysis = options.analysisOnly();
        OnnxPlan oldPlan = OnnxPlan.of(before, analysis, original.toString());
        OnnxPlan newPlan = OnnxPlan.of(after, analysis, adapted.toString());
        ChannelMap map = channelMap(options, oldPlan, newPlan);
        List<VerifyResult.LayerCheck> checks = new ArrayList<>();
        Set<String> changed = new HashSet<>();
        for (OnnxPlan.Use old : oldPlan.weights()) {
            changed.add(old.source());
            OnnxPlan.Use updated = counterpart(newPlan.weights(), old);
            if (updated != null) {
                Verifier.TapCheck check = Verifier.checkTaps(stored(before, old), stored(after, updated),
                        old.consumer().segment().map(map), 17, Blocks.budget());
                if (!check.finite()) {
                    problems.add(old.source() + ": the original or adapted weight holds NaN or infinity, which no exact"
                            + " adaptation gives");
                }
                checks.add(new VerifyResult.LayerCheck(old.consumer().node().id(), old.source(), check.maxAbsDifference(),
                        check.maxRelativeDifference(), check.passed(), check.provable()));
            }
        }
        oldPlan.constants().forEach(c -> changed.add(c.source()));
        for (OnnxPlan.Use constant : newPlan.constants()) {
            if (Arrays.stream(after.constantValues(constant.source())).anyMatch(v -> !Double.isFinite(v))) {
                problems.add(adapted + ": initializer '" + constant.source() + "' holds NaN or infinity");
            }
        }
        long identical = compareOthers(before.file(), after.file(), changed);
        double[][] oldAffine = affine(oldPlan, map.oldCount());
        double[][] newAffine = affine(newPlan, map.newCount());
        if (!floatInput(after, newPlan.dependency().input())) {
            notes.add("the whole-model check was skipped: input '" + newPlan.dependency().input()
                    + "' is not float32, so mapped inputs cannot be fed to it; the layer checks above prove the adaptation");
        } else if (oldAffine != null && newAffine != null) {
            VerifyResult.LayerCheck runtime = new OnnxRuntimeCheck(original, adapted, problems, notes)
                    .check(oldPlan, newPlan, map, oldAffine, newAffine);
            if (runtime != null) {
                checks.add(runtime);
            }
        } else {
            notes.add("the whole-model check was skipped: between the input and the adapted layers sits more than"
                    + " per-channel arithmetic; the layer checks above prove the adaptation");
        }
        OnnxBake.verify(oldPlan, newPlan, map, options, checks, notes);
        return new VerifyResult(original.toString(), adapted.toString(), map.from().toString(), map.to().toString(),
                map.rules(), checks, identical, List.copyOf(problems), List.copyOf(notes));
    }

    private ChannelMap channelMap(AdaptOptions options, OnnxPlan before, OnnxPlan after) {
        if (options.to() != null) {
            ChannelMap map = options.channelMap(before.channels(), original.toString());
            if (map.newCount() != after.channels()) {
                throw RechannelException.inexact(adapted + ": input has " + after.channels() + " channels, --to "
                        + map.to() + " has " + map.newCount());
            }
            return map;
        }
        ChannelLayout from = options.fromLayout(before.channels());
        ChannelLayout to = from.resized(after.channels());
        OnnxPlan.Use old = before.weights().get(0);
        OnnxPlan.Use updated = counterpart(after.weights(), old);
        if (updated == null) {
            throw RechannelException.inexact(adapted + ": node '" + old.consumer().node().id() + "' does not read the input");
        }
        try {
            // the first slice alone: a node reading the input more than once repeats the same map
            return Verifier.recover(stored(before.model(), old, old.view().firstChannels(before.channels())),
                    stored(after.model(), updated, updated.view().firstChannels(after.channels())), from, to,
                    Blocks.budget());
        } catch (RechannelException e) {
            throw new RechannelException(e.kind(), adapted + ": node '" + old.consumer().node().id() + "': " + e.getMessage(), e);
        }
    }

    /** A planned weight, read from its file block by block. */
    private static StoredTensor stored(OnnxModel model, OnnxPlan.Use use) {
        return stored(model, use, use.view());
    }

    private static StoredTensor stored(OnnxModel model, OnnxPlan.Use use, AxisView view) {
        return new StoredTensor(TensorLayout.of(model.constantShape(use.source()), view, use.dim()),
                TensorData.source(model, use.source()).reader());
    }

    private OnnxPlan.Use counterpart(List<OnnxPlan.Use> uses, OnnxPlan.Use old) {
        for (OnnxPlan.Use use : uses) {
            if (use.consumer().node().id().equals(old.consumer().node().id()) && use.input() == old.input()) {
                return use;
            }
        }
        problems.add(adapted + ": node '" + old.consumer().node().id() + "' no longer reads the input");
        return null;
    }

    /** Every initializer outside the adapted ones must hold the same bytes. */
    private long compareOthers(OnnxFile a, OnnxFile b, Set<String> changed) {
        long identical = 0;
        try (Progress progress = Progress.of("comparing " + adapted.getFileName() + " with the original",
                OnnxRuntimeCheck.weightBytes(a))) {
            for (OnnxFile.TensorInfo x : a.initializers().values()) {
                if (changed.contains(x.name())) {
                    continue;
                }
                OnnxFile.TensorInfo y = b.initializers().get(x.name());
                if (y == null) {
                    problems.add(adapted + ": initializer '" + x.name() + "' is missing");
                } else if (!Arrays.equals(x.dims(), y.dims()) || x.dataType() != y.dataType() || !sameData(a, x, b, y, progress)) {
                    problems.add(adapted + ": initializer '" + x.name() + "' differs from the original");
                } else {
                    identical++;
                }
            }
        }
        return identical;
    }

    private static boolean sameData(OnnxFile a, OnnxFile.TensorInfo x, OnnxFile b, OnnxFile.TensorInfo y, Progress progress) {
        if (x.isExternal() != y.isExternal()) {
            return false;
        }
        try {
            if (!x.isExternal()) {
                long length = x.span().end() - x.span().start();
                return length == y.span().end() - y.span().start()
                        && ByteRanges.same(a.path(), x.span().start(), b.path(), y.span().start(), length, progress);
            }
            OnnxExternalData xd = OnnxExternalData.of(a, x);
            OnnxExternalData yd = OnnxExternalData.of(b, y);
            return xd.length() == yd.length() && ByteRanges.same(xd.file(), xd.offset(), yd.file(), yd.offset(), xd.length(), progress);
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, a.path() + ": cannot compare: " + e.getMessage(), e);
        }
    }

    private static boolean floatInput(OnnxModel model, String input) {
        return model.file().inputs().stream().filter(i -> i.getName().equals(input)).findFirst()
                .map(i -> i.getType().getTensorType().getElemType() == OnnxTensors.FLOAT).orElse(false);
    }

    /**
     * The per-channel affine map x_c → a_c·x_c + b_c that the nodes between the input and the adapted
     * layers apply ({a, b}), or null when they do anything else (or branch).
     */
    static double[][] affine(OnnxPlan plan, int channels) {
        double[] a = new double[channels];
        double[] b = new double[channels];
        Arrays.fill(a, 1);
        if (plan.dependency().consumers().size() > 1 && !plan.dependency().constants().isEmpty()) {
            return null;
        }
        OnnxModel model = plan.model();
        // a concatenation places the input beside what the adapted layers made of it: exact on Mᵀx' as long as
        // nothing else acts on the way (each concatenated copy could have been preprocessed differently)
        List<String> ops = plan.dependency().tensors().keySet().stream().map(model::node).filter(n -> n != null)
                .map(ai.onnx.proto.OnnxMl.NodeProto::getOpType).toList();
        boolean concatenates = ops.contains("Concat");
        if (concatenates && !Set.of("Identity", "Cast", "Concat").containsAll(ops)) {
            return null;
        }
        for (String id : plan.dependency().tensors().keySet()) {
            ai.onnx.proto.OnnxMl.NodeProto node = model.node(id);
            if (node == null) {
                continue; // the input itself
            }
            String op = node.getOpType();
            if (!AFFINE_PATH.contains(op) && !op.equals("Concat")) {
                return null;
            }
            if (op.equals("BatchNormalization")) {
                double[] scale = perChannel(model, node.getInput(1), channels);
                double[] bias = perChannel(model, node.getInput(2), channels);
                double[] mean = perChannel(model, node.getInput(3), channels);
                double[] var = perChannel(model, node.getInput(4), channels);
                double eps = node.getAttributeList().stream().filter(x -> x.getName().equals("epsilon")).findFirst()
                        .map(x -> (double) x.getF()).orElse(1e-5);
                if (scale == null || bias == null || mean == null || var == null) {
                    return null;
                }
                for (int c = 0; c < channels; c++) {
                    double k = scale[c] / Math.sqrt(var[c] + eps);
                    b[c] = (b[c] - mean[c]) * k + bias[c];
                    a[c] *= k;
                }
            } else if (Set.of("Sub", "Add", "Mul", "Div").contains(op)) {
                boolean constantFirst = model.constantSource(node.getInput(0)) != null;
                double[] v = perChannel(model, node.getInput(constantFirst ? 0 : 1), channels);
                if (v == null || constantFirst && op.equals("Div")) {
                    return null;
                }
                for (int c = 0; c < channels; c++) {
                    switch (op) {
                        case "Add" -> b[c] += v[c];
                        case "Sub" -> {
                            if (constantFirst) {
                                a[c] = -a[c];
                                b[c] = v[c] - b[c];
                            } else {
                                b[c] -= v[c];
                            }
                        }
                        case "Mul" -> {
                            a[c] *= v[c];
                            b[c] *= v[c];
                        }
                        default -> {
                            a[c] /= v[c];
                            b[c] /= v[c];
                        }
                    }
                }
            }
        }
        return new double[][] {a, b};
    }

    /** A constant's value for each channel (a scalar repeats), or null when it is not a constant of that size. */
    private static double[] perChannel(OnnxModel model, String tensor, int channels) {
        String source = model.constantSource(tensor);
        if (source == null) {
            return null;
        }
        double[] values = model.constantValues(source);
        if (values.length == 1) {
            double[] repeated = new double[channels];
            Arrays.fill(repeated, values[0]);
            return repeated;
        }
        return values.length == channels ? values : null;
    }
}

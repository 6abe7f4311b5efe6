package io.rechannel.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.AxisView;
import io.rechannel.core.Blocks;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.RechannelException;
import io.rechannel.core.StoredTensor;
import io.rechannel.core.TensorLayout;
import io.rechannel.format.VerifyResult;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.verify.Verifier;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.Set;

/**
 * Proves an adapted ONNX model: every mixed weight passes {@link Verifier#checkTaps}, every other
 * initializer is bit-identical, and ONNX Runtime gives the same outputs for the adapted model on
 * random x' as for the original on Mᵀx' (when no per-channel constants stand in front of the mixing
 * layers; otherwise the layer-level proof stands alone and the report says so).
 */
final class OnnxVerifier {

    /** Tolerance of the end-to-end comparison, relative to the output's magnitude: float32 through a network. */
    static final double RUNTIME_TOLERANCE = 1e-4;

    /** The largest input the whole-model check feeds (values): its arrays must fit the launcher's heap. */
    static final long MAX_TEST_INPUT = 1L << 21;

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
        } else if (oldAffine != null && newAffine != null && testInputSize(newPlan) > MAX_TEST_INPUT) {
            notes.add("the whole-model check was skipped: input '" + newPlan.dependency().input() + "' declares more than "
                    + MAX_TEST_INPUT + " values, more than the check holds in memory; the layer checks above prove the adaptation");
        } else if (oldAffine != null && newAffine != null) {
            checks.add(runtimeCheck(oldPlan, newPlan, map, oldAffine, newAffine));
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
        for (OnnxFile.TensorInfo x : a.initializers().values()) {
            if (changed.contains(x.name())) {
                continue;
            }
            OnnxFile.TensorInfo y = b.initializers().get(x.name());
            if (y == null) {
                problems.add(adapted + ": initializer '" + x.name() + "' is missing");
            } else if (!Arrays.equals(x.dims(), y.dims()) || x.dataType() != y.dataType() || !sameData(a, x, b, y)) {
                problems.add(adapted + ": initializer '" + x.name() + "' differs from the original");
            } else {
                identical++;
            }
        }
        return identical;
    }

    private static boolean sameData(OnnxFile a, OnnxFile.TensorInfo x, OnnxFile b, OnnxFile.TensorInfo y) {
        if (x.isExternal() != y.isExternal()) {
            return false;
        }
        if (!x.isExternal()) {
            return sameRange(a.path(), x.span().start(), b.path(), y.span().start(), x.span().end() - x.span().start())
                    && x.span().end() - x.span().start() == y.span().end() - y.span().start();
        }
        OnnxExternalData xd = OnnxExternalData.of(a, x);
        OnnxExternalData yd = OnnxExternalData.of(b, y);
        return xd.length() == yd.length() && sameRange(xd.file(), xd.offset(), yd.file(), yd.offset(), xd.length());
    }

    private static boolean sameRange(Path p, long po, Path q, long qo, long length) {
        try (FileChannel x = FileChannel.open(p, StandardOpenOption.READ); FileChannel y = FileChannel.open(q, StandardOpenOption.READ)) {
            ByteBuffer bx = ByteBuffer.allocate(1 << 20);
            ByteBuffer by = ByteBuffer.allocate(1 << 20);
            for (long done = 0; done < length; ) {
                int n = (int) Math.min(bx.capacity(), length - done);
                bx.clear().limit(n);
                by.clear().limit(n);
                x.read(bx, po + done);
                y.read(by, qo + done);
                if (!bx.flip().equals(by.flip())) {
                    return false;
                }
                done += n;
            }
            return true;
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, p + ": " + e.getMessage(), e);
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

    /** The shape of the whole-model check's input: the declared one, symbolic batch 2, other symbolic axes 32. */
    private long[] testShape(OnnxPlan after) {
        String inputName = after.dependency().input();
        long[] shape = after.model().graph().node(inputName).declaredShape().orElseThrow(() ->
                RechannelException.unsupported(adapted + ": input '" + inputName + "' declares no shape to test with")).clone();
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] <= 0) {
                shape[d] = d == 0 ? 2 : 32;
            }
        }
        return shape;
    }

    /** The number of values of the check's input, or Long.MAX_VALUE when it overflows. */
    private long testInputSize(OnnxPlan after) {
        try {
            return io.rechannel.core.Shapes.count(testShape(after));
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * ONNX Runtime: the adapted model on random x' against the original on the input that gives the
     * original's first layers Mᵀ of what the adapted model's per-channel preprocessing makes of x'.
     */
    private VerifyResult.LayerCheck runtimeCheck(OnnxPlan before, OnnxPlan after, ChannelMap map, double[][] oldAffine,
                                                 double[][] newAffine) {
        String inputName = after.dependency().input();
        long[] shape = testShape(after);
        ChannelAxis axis = after.dependency().axis();
        int channelIndex = axis.index(shape.length);
        long outer = 1;
        long inner = 1;
        for (int d = 0; d < channelIndex; d++) {
            outer *= shape[d];
        }
        for (int d = channelIndex + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        AxisView newView = AxisView.whole(outer, map.newCount(), inner);
        SplittableRandom random = new SplittableRandom(23);
        double[] x = new double[(int) newView.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble(-1, 1);
        }
        for (int j = 0; j < map.newCount(); j++) {
            if (map.isFresh(j)) {
                // a fresh channel takes no part in the identity: feed it what its preprocessing turns into zero
                newView.fillChannel(x, j, -newAffine[1][j] / newAffine[0][j]);
            }
        }
        double[] preprocessed = x.clone();
        for (long o = 0; o < outer; o++) {
            for (int j = 0; j < map.newCount(); j++) {
                for (long k = 0; k < inner; k++) {
                    int at = (int) ((o * map.newCount() + j) * inner + k);
                    preprocessed[at] = newAffine[0][j] * x[at] + newAffine[1][j];
                }
            }
        }
        double[] mapped = ChannelMixer.mapInput(preprocessed, newView, map);
        for (long o = 0; o < outer; o++) {
            for (int i = 0; i < map.oldCount(); i++) {
                for (long k = 0; k < inner; k++) {
                    int at = (int) ((o * map.oldCount() + i) * inner + k);
                    mapped[at] = (mapped[at] - oldAffine[1][i]) / oldAffine[0][i];
                }
            }
        }
        long[] oldShape = shape.clone();
        oldShape[channelIndex] = map.oldCount();
        OrtEnvironment env = environment();
        float[][] yOld = runOrRefuse(env, original, before.dependency().input(), mapped, oldShape);
        float[][] yNew = runOrRefuse(env, adapted, inputName, x, shape);
        for (int o = 0; o < Math.max(yOld.length, yNew.length); o++) {
            if (o >= yOld.length || o >= yNew.length || yOld[o].length != yNew[o].length) {
                throw RechannelException.inexact(adapted + ": output " + o + " of the model has another size than the"
                        + " original's");
            }
        }
        double maxAbs = 0;
        double maxRel = 0;
        for (int o = 0; o < yOld.length; o++) {
            double scale = 0;
            for (float v : yOld[o]) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < yOld[o].length; i++) {
                double diff = Math.abs(yOld[o][i] - yNew[o][i]);
                maxAbs = Math.max(maxAbs, diff);
                maxRel = Math.max(maxRel, diff / Math.max(1, scale));
            }
        }
        return new VerifyResult.LayerCheck("(whole model, ONNX Runtime)", "outputs", maxAbs, maxRel,
                maxRel <= RUNTIME_TOLERANCE);
    }

    /**
     * ONNX Runtime with its own logging off: its warnings (coloured lines on stderr) are no business of
     * the user's, and its errors reach rechannel as exceptions, reported in rechannel's one line.
     */
    static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
    }

    /** {@link #run}, with ONNX Runtime's refusal reported as one line naming the model it refused. */
    private static float[][] runOrRefuse(OrtEnvironment env, Path model, String input, double[] values, long[] shape) {
        try {
            return run(env, model, input, values, shape);
        } catch (OrtException e) {
            throw RechannelException.inexact(model + ": ONNX Runtime cannot run the model, so it cannot be compared: "
                    + String.valueOf(e.getMessage()).strip().replaceAll("\\s*\\n\\s*", " "));
        }
    }

    /** Runs a model on one float input; returns every float output flattened. */
    static float[][] run(OrtEnvironment env, Path model, String input, double[] values, long[] shape) throws OrtException {
        float[] data = new float[values.length];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) values[i];
        }
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
            try (OrtSession session = env.createSession(model.toString(), options);
                 OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape);
                 OrtSession.Result result = session.run(Map.of(input, tensor))) {
                float[][] outputs = new float[result.size()][];
                for (int i = 0; i < result.size(); i++) {
                    OnnxValue value = result.get(i);
                    FloatBuffer buffer = ((OnnxTensor) value).getFloatBuffer();
                    outputs[i] = new float[buffer.remaining()];
                    buffer.get(outputs[i]);
                }
                return outputs;
            }
        }
    }
}

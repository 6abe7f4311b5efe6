package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import io.rechannel.core.AxisView;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.ChannelMixer;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Shapes;
import io.rechannel.format.Progress;
import io.rechannel.format.Verification;
import io.rechannel.format.VerifyResult;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.pipeline.AdaptationPlan;
import io.rechannel.pipeline.PlanVerifier;
import io.rechannel.pipeline.PlannedTensor;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The end-to-end part of verify, beside the layer-level proof: ONNX Runtime runs the adapted model on random x′
 * and the original on the input that gives its first layers Mᵀ of what the adapted model's per-channel
 * preprocessing makes of x′; the outputs must agree within {@link #RUNTIME_TOLERANCE} of their magnitude.
 * Possible when only per-channel arithmetic stands between the input and the adapted layers and the input takes
 * floats; otherwise the report says why it was skipped.
 *
 * <p>A model with more than {@link #WHOLE_MODEL_BYTES} of weights is not run whole: ONNX Runtime would parse and
 * hold every weight (1.2 GB and most of a minute for torchvision's VGG19), to prove what the tap check has
 * proved already. Its check runs the sub-graph computing the adapted layers' outputs ({@link OnnxSubGraph}), and
 * every node outside that sub-graph must be identical to the original's (the initializers are compared anyway),
 * so that the rest of the model computes the same from the same values.
 */
final class OnnxRuntimeCheck {

    /** Tolerance of the comparison, relative to the output's magnitude: float32 through a network. */
    static final double RUNTIME_TOLERANCE = 1e-4;

    /** The largest input the check feeds (values): its arrays must fit the launcher's heap. */
    static final long MAX_TEST_INPUT = 1L << 21;

    /** Models with more weights than this (the original's) are checked on the sub-graph ending at the adapted layers. */
    static final long WHOLE_MODEL_BYTES = 128L << 20;

    /** The most weight bytes such a sub-graph may hold: they are read into memory to build it. */
    static final long SUB_GRAPH_BYTES = 8L << 20;

    private final OnnxModel originalModel;
    private final OnnxModel adaptedModel;
    private final Path original;
    private final Path adapted;
    private final Verification verification;

    /** The check of {@code adapted} against {@code original}, reported to {@code verification}. */
    OnnxRuntimeCheck(OnnxModel original, OnnxModel adapted, Verification verification) {
        this.originalModel = original;
        this.adaptedModel = adapted;
        this.original = original.file().path();
        this.adapted = adapted.file().path();
        this.verification = verification;
    }

    /** Runs both models where it can, adding the comparison to {@code verification}; else says why not. */
    void check(PlanVerifier.Outcome outcome) {
        AdaptationPlan before = outcome.before();
        AdaptationPlan after = outcome.after();
        ChannelMap map = outcome.map();
        double[][] oldAffine = OnnxAffinePath.of(originalModel, before, map.oldCount());
        double[][] newAffine = OnnxAffinePath.of(adaptedModel, after, map.newCount());
        String input = after.dependency().input();
        if (!floatInput(adaptedModel, input)) {
            verification.note("the whole-model check was skipped: input '" + input + "' is not float32, so mapped inputs"
                    + " cannot be fed to it; the layer checks above prove the adaptation");
        } else if (oldAffine == null || newAffine == null) {
            verification.note("the whole-model check was skipped: between the input and the adapted layers sits more than"
                    + " per-channel arithmetic; the layer checks above prove the adaptation");
        } else {
            VerifyResult.LayerCheck check = check(before, after, map, oldAffine, newAffine);
            if (check != null) {
                verification.wholeModel(check);
            }
        }
    }

    private static boolean floatInput(OnnxModel model, String input) {
        return model.file().inputs().stream().filter(i -> i.getName().equals(input)).findFirst()
                .map(i -> i.getType().getTensorType().getElemType() == OnnxTensors.FLOAT).orElse(false);
    }

    /** What is run of one model: the file itself, or a sub-graph of it. */
    private record Part(Path file, OnnxSubGraph subGraph) {
    }

    /** The check, or null when it cannot be run (the reason is noted). */
    private VerifyResult.LayerCheck check(AdaptationPlan before, AdaptationPlan after, ChannelMap map, double[][] oldAffine,
                                          double[][] newAffine) {
        String input = after.dependency().input();
        long[] shape = testShape(after);
        if (count(shape) > MAX_TEST_INPUT) {
            verification.note("the whole-model check was skipped: input '" + input + "' declares more than " + MAX_TEST_INPUT
                    + " values, more than the check holds in memory; the layer checks above prove the adaptation");
            return null;
        }
        Part oldPart = new Part(original, null);
        Part newPart = new Part(adapted, null);
        String label = "(whole model, ONNX Runtime)";
        // the original's size decides: the adapted model differs only by the new channels of its first layers
        if (weightBytes(originalModel.file()) > WHOLE_MODEL_BYTES) {
            OnnxSubGraph oldGraph = OnnxSubGraph.of(originalModel.file(), ends(before, originalModel), SUB_GRAPH_BYTES);
            OnnxSubGraph newGraph = OnnxSubGraph.of(adaptedModel.file(), ends(before, adaptedModel), SUB_GRAPH_BYTES);
            if (oldGraph == null || newGraph == null) {
                verification.note("the whole-model check was skipped: the model holds more than " + (WHOLE_MODEL_BYTES >> 20)
                        + " MB of weights and the adapted layers' sub-graph more than " + (SUB_GRAPH_BYTES >> 20)
                        + " MB; the layer checks above prove the adaptation");
                return null;
            }
            compareOthers(originalModel, oldGraph, adaptedModel, newGraph);
            oldPart = new Part(original, oldGraph);
            newPart = new Part(adapted, newGraph);
            label = "(adapted layers' outputs, ONNX Runtime)";
            int ran = newGraph.nodes().size();
            int others = adaptedModel.file().nodes().size() - ran;
            verification.note(String.format(Locale.ROOT, "ONNX Runtime ran %s computing the adapted layers' outputs, not the whole"
                    + " model (more than %d MB of weights); the other %s identical to the original's",
                    ran == 1 ? "the node" : "the " + ran + " nodes", WHOLE_MODEL_BYTES >> 20,
                    others == 1 ? "node is" : others + " nodes are"));
        }
        double[][] inputs = inputs(shape, after.dependency().axis(), map, oldAffine, newAffine);
        long[] oldShape = shape.clone();
        oldShape[after.dependency().axis().index(shape.length)] = map.oldCount();
        OrtEnvironment env = environment();
        float[][] yOld = runOrRefuse(env, oldPart, before.dependency().input(), inputs[0], oldShape);
        float[][] yNew = runOrRefuse(env, newPart, input, inputs[1], shape);
        return compare(label, yOld, yNew);
    }

    /** The adapted layers (in the original's order) as nodes of {@code model}. */
    private static List<OnnxMl.NodeProto> ends(AdaptationPlan before, OnnxModel model) {
        List<OnnxMl.NodeProto> ends = new ArrayList<>();
        for (PlannedTensor kernel : before.kernels()) {
            OnnxMl.NodeProto node = model.node(kernel.node());
            if (node != null && !ends.contains(node)) {
                ends.add(node);
            }
        }
        return ends;
    }

    /** Every node outside the sub-graphs must be the original's, in the same order. */
    private void compareOthers(OnnxModel before, OnnxSubGraph oldGraph, OnnxModel after, OnnxSubGraph newGraph) {
        List<OnnxMl.NodeProto> old = oldGraph.others(before.file());
        List<OnnxMl.NodeProto> now = newGraph.others(after.file());
        if (old.size() != now.size()) {
            verification.problem(adapted + ": " + now.size() + " nodes after the adapted layers, the original has " + old.size());
            return;
        }
        for (int i = 0; i < old.size(); i++) {
            if (!old.get(i).equals(now.get(i))) {
                verification.problem(adapted + ": node '" + before.idOf(old.get(i)) + "' differs from the original's");
            }
        }
    }

    /** The bytes of a model's initializers. */
    static long weightBytes(OnnxFile file) {
        long bytes = 0;
        for (OnnxFile.TensorInfo info : file.initializers().values()) {
            bytes += info.isExternal() ? OnnxExternalData.of(file, info).length() : info.span().end() - info.span().payloadStart();
        }
        return bytes;
    }

    /** The shape of the check's input: the declared one, symbolic batch 1, other symbolic axes 32. */
    private long[] testShape(AdaptationPlan after) {
        String inputName = after.dependency().input();
        long[] shape = adaptedModel.graph().node(inputName).declaredShape().orElseThrow(() ->
                RechannelException.unsupported(adapted + ": input '" + inputName + "' declares no shape to test with")).clone();
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] <= 0) {
                shape[d] = d == 0 ? 1 : 32;
            }
        }
        return shape;
    }

    /** The number of values of a shape, or Long.MAX_VALUE when it overflows. */
    private static long count(long[] shape) {
        try {
            return Shapes.count(shape);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** {the original's input, the adapted model's input x′}. */
    private static double[][] inputs(long[] shape, ChannelAxis axis, ChannelMap map, double[][] oldAffine, double[][] newAffine) {
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
        return new double[][] {mapped, x};
    }

    private VerifyResult.LayerCheck compare(String label, float[][] yOld, float[][] yNew) {
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
        return new VerifyResult.LayerCheck(label, "outputs", maxAbs, maxRel, maxRel <= RUNTIME_TOLERANCE);
    }

    /**
     * ONNX Runtime with its own logging off: its warnings (coloured lines on stderr) are no business of
     * the user's, and its errors reach rechannel as exceptions, reported in rechannel's one line.
     */
    static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
    }

    /** Runs a part, showing progress when it takes a while; ONNX Runtime's refusal is one line naming the model. */
    private static float[][] runOrRefuse(OrtEnvironment env, Part part, String input, double[] values, long[] shape) {
        String what = part.subGraph() == null ? part.file().getFileName().toString()
                : "the adapted layers of " + part.file().getFileName();
        float[][] outputs;
        try (Progress progress = Progress.of("running " + what + " in ONNX Runtime")) {
            outputs = part.subGraph() == null ? run(env, part.file(), input, values, shape)
                    : run(env, part.subGraph().model(), input, values, shape);
        } catch (OrtException e) {
            throw RechannelException.inexact(part.file() + ": ONNX Runtime cannot run the model, so it cannot be compared: "
                    + String.valueOf(e.getMessage()).strip().replaceAll("\\s*\\n\\s*", " "));
        }
        for (int i = 0; i < outputs.length; i++) {
            if (outputs[i] == null) {
                throw RechannelException.inexact(part.file() + ": output " + i + " is not a float32 tensor, so it cannot be compared");
            }
        }
        return outputs;
    }

    /** Runs a model file on one float input; returns every output flattened (null for an output that is not float32). */
    static float[][] run(OrtEnvironment env, Path model, String input, double[] values, long[] shape) throws OrtException {
        try (OrtSession.SessionOptions options = options(); OrtSession session = env.createSession(model.toString(), options)) {
            return run(env, session, input, values, shape);
        }
    }

    private static float[][] run(OrtEnvironment env, byte[] model, String input, double[] values, long[] shape) throws OrtException {
        try (OrtSession.SessionOptions options = options(); OrtSession session = env.createSession(model, options)) {
            return run(env, session, input, values, shape);
        }
    }

    private static OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
        options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
        return options;
    }

    private static float[][] run(OrtEnvironment env, OrtSession session, String input, double[] values, long[] shape)
            throws OrtException {
        float[] data = new float[values.length];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) values[i];
        }
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape);
             OrtSession.Result result = session.run(Map.of(input, tensor))) {
            float[][] outputs = new float[result.size()][];
            for (int i = 0; i < result.size(); i++) {
                OnnxValue value = result.get(i);
                // a copy of ONNX Runtime's output, on the heap: taken as it is, not copied again
                FloatBuffer buffer = value instanceof OnnxTensor t ? t.getFloatBuffer() : null;
                if (buffer != null && buffer.hasArray() && buffer.arrayOffset() == 0 && buffer.array().length == buffer.remaining()) {
                    outputs[i] = buffer.array();
                } else if (buffer != null) {
                    outputs[i] = new float[buffer.remaining()];
                    buffer.get(outputs[i]);
                }
            }
            return outputs;
        }
    }
}

package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --bake-preprocessing} on ONNX models: Sub/Div nodes at the input, so that the new model takes raw values.
 * Judged by ONNX Runtime (the baked model on raw x against the original on its own preprocessing of x's old
 * channels) and by ONNX's checker (full check, with shape inference).
 */
class OnnxBakeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final double[] IMAGENET_MEAN = {0.485, 0.456, 0.406};
    private static final double[] IMAGENET_STD = {0.229, 0.224, 0.225};

    /** The largest difference between two outputs relative to the second's magnitude. */
    static double relative(float[] a, float[] b) {
        assertEquals(b.length, a.length, "output sizes");
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        assertTrue(scale > 0, "the original's output is all zero: the comparison would prove nothing");
        return diff / scale;
    }

    /**
     * Raw values in [0, 1) for {@code channels} channels of an NCHW input, and the original's input: the first three
     * channels, (x - mean) / std in float32.
     */
    private record Inputs(double[] raw, double[] normalised) {
        static Inputs nchw(int batch, int channels, int size, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            int plane = size * size;
            double[] raw = new double[batch * channels * plane];
            double[] old = new double[batch * 3 * plane];
            for (int n = 0; n < batch; n++) {
                for (int c = 0; c < channels; c++) {
                    for (int p = 0; p < plane; p++) {
                        double x = (float) random.nextDouble();
                        raw[(n * channels + c) * plane + p] = x;
                        if (c < 3) {
                            old[(n * 3 + c) * plane + p] = (float) ((float) (x - (float) IMAGENET_MEAN[c]) / (float) IMAGENET_STD[c]);
                        }
                    }
                }
            }
            return new Inputs(raw, old);
        }
    }

    @Test
    void timmExportWithImagenetNormTakesRawRgbyAndGivesTheOriginalsOutputs(@TempDir Path dir) throws Exception {
        Path original = fixture("timm/test_resnet.onnx");
        Path out = dir.resolve("rgby.onnx");
        TestSupport.Run run = cli("extend", original.toString(), "--to", "RGBY", "--init", "Y=0", "--norm", "imagenet",
                "--bake-preprocessing", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("rechannel_preprocessing_sub, rechannel_preprocessing_div baked preprocessing (mean, std)"),
                "extend --verify checks the baked constants: " + run.out());
        JsonNode contract = JSON.readTree(Files.readString(dir.resolve("rgby.onnx.input.json")));
        assertEquals("raw", contract.path("convention").asText());
        assertTrue(contract.path("baked").asBoolean(), contract.toString());
        assertEquals("0-1", contract.path("units").asText());
        assertEquals("[\"R\",\"G\",\"B\",\"Y\"]", contract.path("channels").toString());
        assertEquals("[0.0,0.0,0.0,0.0]", contract.path("mean").toString());
        assertEquals("[1.0,1.0,1.0,1.0]", contract.path("std").toString());
        assertTrue(contract.path("inside").get(0).asText().startsWith("rechannel_preprocessing_sub (Sub) [0.485, 0.456, 0.406, "),
                contract.toString());

        Inputs x = Inputs.nchw(2, 4, 160, 5);
        OrtEnvironment env = OnnxRuntimeCheck.environment();
        float[] baked = OnnxRuntimeCheck.run(env, out, "input", x.raw(), new long[] {2, 4, 160, 160})[0];
        float[] reference = OnnxRuntimeCheck.run(env, original, "input", x.normalised(), new long[] {2, 3, 160, 160})[0];
        double relative = relative(baked, reference);
        assertTrue(relative <= 1e-5, "the baked model on raw RGBY against the original on normalised RGB: " + relative);
        // the same raw values fed to the original without its preprocessing differ: the comparison can fail
        double[] unnormalised = new double[x.normalised().length];
        System.arraycopy(x.raw(), 0, unnormalised, 0, 160 * 160 * 3);
        System.arraycopy(x.raw(), 160 * 160 * 4, unnormalised, 160 * 160 * 3, 160 * 160 * 3);
        float[] wrong = OnnxRuntimeCheck.run(env, original, "input", unnormalised, new long[] {2, 3, 160, 160})[0];
        assertTrue(relative(baked, wrong) > 1e-3, "without the original's preprocessing the outputs differ");

        TestSupport.python("import onnx, sys\nonnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)",
                out.toString());
    }

    @Test
    void nhwcInputGetsConstantsOnItsLastAxisAndNamesThatCollideWithNothing(@TempDir Path dir) throws Exception {
        // x [1,8,8,3] -> Transpose -> Conv; a node and a tensor already carry the names the bake would take first
        OnnxMl.ModelProto.Builder model = OnnxModels.conv();
        OnnxMl.GraphProto.Builder graph = model.getGraphBuilder();
        graph.setInput(0, OnnxModels.value("x", 1, 8, 8, 3));
        graph.getNodeBuilder(0).setInput(0, "rechannel_preprocessing_sub_output");
        graph.addNode(0, OnnxMl.NodeProto.newBuilder().setName("rechannel_preprocessing_sub").setOpType("Transpose")
                .addInput("x").addOutput("rechannel_preprocessing_sub_output")
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("perm").setType(OnnxMl.AttributeProto.AttributeType.INTS)
                        .addInts(0).addInts(3).addInts(1).addInts(2)));
        Path original = OnnxModels.write(model, dir.resolve("nhwc.onnx"));
        Path out = dir.resolve("nhwc4.onnx");
        TestSupport.Run run = cli("extend", original.toString(), "--to", "RGBY", "--init", "Y=0", "--norm", "imagenet",
                "--bake-preprocessing", "-o", out.toString(), "--verify", "--json");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        JsonNode contract = JSON.readTree(run.out()).path("contract");
        assertEquals("channels_last", contract.path("layout").asText());
        OnnxModel baked = OnnxModel.of(OnnxFile.read(out));
        OnnxMl.NodeProto sub = baked.file().nodes().get(0);
        assertEquals(List.of("Sub", "rechannel_preprocessing_sub_1", "x"), List.of(sub.getOpType(), sub.getName(), sub.getInput(0)));
        assertEquals("[1, 1, 1, 4]", java.util.Arrays.toString(baked.constantShape(sub.getInput(1))));

        SplittableRandom random = new SplittableRandom(3);
        double[] raw = new double[8 * 8 * 4];
        double[] old = new double[8 * 8 * 3];
        for (int p = 0; p < 64; p++) {
            for (int c = 0; c < 4; c++) {
                double v = (float) random.nextDouble();
                raw[p * 4 + c] = v;
                if (c < 3) {
                    old[p * 3 + c] = (float) ((float) (v - (float) IMAGENET_MEAN[c]) / (float) IMAGENET_STD[c]);
                }
            }
        }
        OrtEnvironment env = OnnxRuntimeCheck.environment();
        double relative = relative(OnnxRuntimeCheck.run(env, out, "x", raw, new long[] {1, 8, 8, 4})[0],
                OnnxRuntimeCheck.run(env, original, "x", old, new long[] {1, 8, 8, 3})[0]);
        assertTrue(relative <= 1e-5, "NHWC: " + relative);
    }

    @Test
    void bakingNeedsAKnownOutsidePreprocessing(@TempDir Path dir) {
        Path out = dir.resolve("o.onnx");
        TestSupport.Run run = cli("extend", fixture("timm/test_resnet.onnx").toString(), "--to", "RGBY",
                "--bake-preprocessing", "-o", out.toString());
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--bake-preprocessing: what the model expects outside itself is not known")
                && run.err().contains("state it with --norm"), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertTrue(Files.notExists(out) && Files.notExists(dir.resolve("o.onnx.input.json")));
    }

    @Test
    void oldOpsetsAreRefused(@TempDir Path dir) throws Exception {
        OnnxMl.ModelProto.Builder model = OnnxModels.conv();
        model.setOpsetImport(0, OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(6));
        Path original = OnnxModels.write(model, dir.resolve("old.onnx"));
        TestSupport.Run run = cli("extend", original.toString(), "--to", "RGBY", "--norm", "imagenet", "--bake-preprocessing",
                "-o", dir.resolve("o.onnx").toString());
        assertEquals(5, run.exitCode(), run.err());
        assertTrue(run.err().contains("need opset 7 or later; the model imports opset 6"), run.err());
    }

    /** Every line of the contract's {@code inside}, as text. */
    static List<String> lines(JsonNode array) {
        List<String> lines = new ArrayList<>();
        array.forEach(v -> lines.add(v.asText()));
        return lines;
    }
}

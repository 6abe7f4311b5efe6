package io.rechannel.onnx;

import ai.onnxruntime.OrtEnvironment;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ONNX models whose input is read through {@code Concat} (torch.cat of the input with its own convolutions) or whose
 * shape is read ({@code Shape}/{@code Size}, as torchvision's ViT patch embedding does), made by
 * fixtures/graph/make_onnx_graph.py with torch.onnx.export and onnx.helper. ONNX Runtime is the judge: with the new
 * channel's weights at zero, the adapted model on x' gives the original's output on x' without that channel.
 */
class OnnxShapeAndConcatTest {

    private static final Path FIXTURES = Path.of("src/test/resources/fixtures/graph");

    private static Path extend(String name, Path dir, String... options) {
        Path out = dir.resolve(name + "_" + options.length + ".onnx");
        String[] args = new String[options.length + 5];
        System.arraycopy(new String[] {"extend", FIXTURES.resolve(name + ".onnx").toString(), "-o", out.toString(), "--verify"},
                0, args, 0, 5);
        System.arraycopy(options, 0, args, 5, options.length);
        TestSupport.Run run = cli(args);
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("verified: "), run.out());
        return out;
    }

    /** The largest difference between the adapted model on x' (4 channels) and the original on its first 3, relative. */
    private static double zeroChannelDifference(Path original, Path adapted, int size) throws Exception {
        long[] shape = {2, 4, size, size};
        int plane = size * size;
        double[] x = new double[2 * 4 * plane];
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble(-1, 1);
        }
        double[] kept = new double[2 * 3 * plane];
        for (int n = 0; n < 2; n++) {
            System.arraycopy(x, n * 4 * plane, kept, n * 3 * plane, 3 * plane);
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] yNew = OnnxRuntimeCheck.run(env, adapted, "input", x, shape)[0];
        float[] yOld = OnnxRuntimeCheck.run(env, original, "input", kept, new long[] {2, 3, size, size})[0];
        assertEquals(yOld.length, yNew.length);
        double scale = 0;
        double diff = 0;
        for (int i = 0; i < yOld.length; i++) {
            scale = Math.max(scale, Math.abs(yOld[i]));
            diff = Math.max(diff, Math.abs(yOld[i] - yNew[i]));
        }
        assertTrue(scale > 0);
        return diff / scale;
    }

    private static void checkedByOnnx(Path model) throws Exception {
        String out = TestSupport.python(String.join("\n",
                "import onnx, sys",
                "onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)",
                "print('ok')"), model.toString());
        assertEquals("ok", out.trim());
    }

    @ParameterizedTest
    @CsvSource({"concat_input, 16", "concat_general, 16", "concat_general_shapes, 16", "vit_patch_embedding, 32",
        "shape_slices, 8"})
    void adaptedModelComputesTheOriginalOnTheOldChannels(String name, int size, @TempDir Path dir) throws Exception {
        Path out = extend(name, dir, "--to", "RGBY", "--init", "Y=0");
        checkedByOnnx(out);
        double difference = zeroChannelDifference(FIXTURES.resolve(name + ".onnx"), out, size);
        assertTrue(difference <= 1e-5, name + ": " + difference);
    }

    @ParameterizedTest
    @ValueSource(strings = {"concat_input", "vit_patch_embedding"})
    void everyInitialisationPassesTheWholeModelCheck(String name, @TempDir Path dir) throws Exception {
        for (String init : new String[] {"Y=B", "Y=0.25*R-G", "random"}) {
            Path out = dir.resolve(name + "_rgby.onnx");
            TestSupport.Run run = cli("extend", FIXTURES.resolve(name + ".onnx").toString(), "--to", "RGBY", "--init", init,
                    "-o", out.toString(), "--force", "--verify");
            assertEquals(0, run.exitCode(), init + ": " + run.out() + run.err());
            assertTrue(run.out().lines().anyMatch(l -> l.startsWith("  (whole model, ONNX Runtime) outputs:") && l.endsWith(" ok")),
                    init + ": " + run.out());
        }
    }

    /** conv_c reads cat([cat([conv_a(x), x]), relu(bn(x)), x]): three slices of the input among 13 channels. */
    @Test
    void eachSliceOfTheInputIsMixedAndEverythingBetweenKept(@TempDir Path dir) {
        Path out = extend("concat_general", dir, "--to", "RGBY", "--init", "Y=0.5*R+0.5*B");
        OnnxModel before = OnnxModel.of(OnnxFile.read(FIXTURES.resolve("concat_general.onnx")));
        OnnxModel after = OnnxModel.of(OnnxFile.read(out));
        assertArrayEquals(new long[] {6, 16, 3, 3}, after.constantShape("conv_c.weight"));
        assertArrayEquals(new long[] {5, 8, 1, 1}, after.constantShape("conv_d.weight"));
        double[] old = before.constantValues("conv_c.weight");
        double[] updated = after.constantValues("conv_c.weight");
        // new channel -> old channel: conv_a's 4, then R G B Y three times (Y = (R + B) / 2, -1 marks it)
        int[] source = {0, 1, 2, 3, 4, 5, 6, -1, 7, 8, 9, -1, 10, 11, 12, -1};
        for (int o = 0; o < 6; o++) {
            for (int c = 0; c < 16; c++) {
                for (int k = 0; k < 9; k++) {
                    double expected = source[c] >= 0 ? old[(o * 13 + source[c]) * 9 + k]
                            : (float) (0.5 * old[(o * 13 + source[c - 3]) * 9 + k] + 0.5 * old[(o * 13 + source[c - 1]) * 9 + k]);
                    assertEquals(expected, updated[(o * 16 + c) * 9 + k], "out " + o + " channel " + c + " tap " + k);
                }
            }
        }
    }

    /** Every recorded shape that holds the input's channels grows by one per slice; the others stay. */
    @Test
    void recordedShapesGrowByTheAddedChannelsOfEachSlice(@TempDir Path dir) {
        Path out = extend("concat_general_shapes", dir, "--to", "RGBY", "--init", "Y=0");
        java.util.Map<String, Long> channels = new java.util.TreeMap<>();
        for (var info : OnnxFile.read(out).valueInfos()) {
            channels.put(info.getName(), OnnxModel.shape(info)[1]);
        }
        assertEquals(java.util.Map.of("/conv_a/Conv_output_0", 4L, "/Concat_output_0", 8L, "/bn/BatchNormalization_output_0", 4L,
                "/Relu_output_0", 4L, "/Concat_1_output_0", 16L, "/conv_c/Conv_output_0", 6L, "/conv_d/Conv_output_0", 5L),
                channels);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "vit_reads_channels|'/Div_2' (Div) uses the channel count of input 'input' that '/Shape_1' (Shape) reads"
            + " (passed on by '/Gather_1' (Gather), '/Cast_4' (Cast)): the adapted model would compute with its new"
            + " channel count there",
        "shape_reads_channels|'reshape' (Reshape) uses the channel count of input 'input' that 'shape' (Shape) reads"
            + " (passed on by 'slice_nc' (Slice), 'target' (Concat)): the adapted model would compute with its new"
            + " channel count there",
        "shape_dynamic_index|'gather_computed' (Gather) picks entries of the shape from a tensor computed at run time;"
            + " rechannel cannot tell whether it reads the channel count of input 'input'",
        "size_used|'per_element' (Div) uses the channel count of input 'input' that 'size' (Size) reads"
            + " (passed on by 'to_float' (Cast)): the adapted model would compute with its new channel count there"})
    void aNodeUsingTheChannelCountIsRefusedByName(String name, String reason, @TempDir Path dir) {
        Path model = FIXTURES.resolve(name + ".onnx");
        Path out = dir.resolve("out.onnx");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "-o", out.toString());
        assertEquals(6, run.exitCode(), run.out() + run.err());
        assertEquals("rechannel: " + model + ": " + reason, run.err().trim());
        assertTrue(!out.toFile().exists() && dir.toFile().list().length == 0, "nothing left behind");
    }
}

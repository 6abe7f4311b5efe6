package io.rechannel.onnx;

import ai.onnxruntime.OrtEnvironment;
import io.rechannel.Npy;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `extend --to N --init timm` on timm's exported models must give, under ONNX Runtime, what timm's own
 * N-channel model gives (timm's adapt_input_conv weights), for N = 1, 2, 4, 13.
 */
class TimmParityTest {

    @ParameterizedTest(name = "{0} with {1} channels")
    @CsvSource({"test_resnet,1", "test_resnet,2", "test_resnet,4", "test_resnet,13",
        "test_efficientnet,1", "test_efficientnet,2", "test_efficientnet,4", "test_efficientnet,13",
        "test_vit,1", "test_vit,2", "test_vit,4", "test_vit,13"})
    void matchesTimm(String model, int channels, @TempDir Path dir) throws Exception {
        Path out = dir.resolve(model + ".in" + channels + ".onnx");
        TestSupport.Run run = cli("extend", fixture("timm/" + model + ".onnx").toString(), "--to", String.valueOf(channels),
                "--init", "timm", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        Npy x = Npy.read(fixture("timm/" + model + ".in" + channels + ".x.npy"));
        Npy y = Npy.read(fixture("timm/" + model + ".in" + channels + ".y.npy"));
        float[] ours = OnnxRuntimeCheck.run(OrtEnvironment.getEnvironment(), out, "input", x.values(), x.shape())[0];
        assertEquals(y.values().length, ours.length);
        double worst = 0;
        for (int i = 0; i < ours.length; i++) {
            worst = Math.max(worst, Math.abs(ours[i] - y.values()[i]));
        }
        assertTrue(worst <= 1e-4, model + " in" + channels + ": max difference to timm " + worst);
    }

    @ParameterizedTest
    @ValueSource(strings = {"test_resnet", "test_efficientnet", "test_vit"})
    void threeChannelModelsMatchTheirReferenceOutputs(String model) throws Exception {
        Npy x = Npy.read(fixture("timm/" + model + ".x.npy"));
        Npy y = Npy.read(fixture("timm/" + model + ".y.npy"));
        float[] out = OnnxRuntimeCheck.run(OrtEnvironment.getEnvironment(), fixture("timm/" + model + ".onnx"), "input",
                x.values(), x.shape())[0];
        assertEquals(y.values().length, out.length);
        for (int i = 0; i < out.length; i++) {
            assertEquals(y.values()[i], out[i], 1e-4, model + " output " + i);
        }
    }

    @Test
    void npyRoundTrip(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("a.npy");
        double[] values = {1.5, -2, 0.25, 3, 4, 5};
        Npy.writeFloat32(file, new long[] {2, 3}, values);
        Npy back = Npy.read(file);
        assertArrayEquals(new long[] {2, 3}, back.shape());
        assertArrayEquals(values, back.values());
        String numpy = TestSupport.python("import numpy, sys; a = numpy.load(sys.argv[1]); print(a.shape, a.dtype, a.sum())", file.toString());
        assertEquals("(2, 3) float32 11.75", numpy.trim());
    }
}

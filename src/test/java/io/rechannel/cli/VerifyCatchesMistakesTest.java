package io.rechannel.cli;

import io.rechannel.TestSupport;
import io.rechannel.hdf5.Hdf5File;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** verify must fail when the adaptation is wrong: the proof is only worth something if it can say no. */
class VerifyCatchesMistakesTest {

    private static final String KERNEL = "/model_weights/block1_conv1/block1_conv1/kernel";

    private static Path adapted(Path dir) {
        Path out = dir.resolve("rgby.h5");
        assertEquals(0, cli("extend", fixture("keras/tiny_vgg.h5").toString(), "--from", "RGB", "--to", "RGBY", "--init", "Y=B",
                "-o", out.toString()).exitCode());
        return out;
    }

    @Test
    void scrambledKernelFails(@TempDir Path dir) {
        Path out = adapted(dir);
        try (Hdf5File h5 = Hdf5File.open(out, true)) {
            // what numpy.resize does: the right number of values, refilled in the wrong places
            double[] values = h5.readDoubles(KERNEL);
            double[] scrambled = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                scrambled[i] = values[(i * 7 + 3) % values.length];
            }
            h5.replaceDataset(KERNEL, h5.dataset(KERNEL).shape(), scrambled);
        }
        TestSupport.Run run = cli("verify", fixture("keras/tiny_vgg.h5").toString(), out.toString(), "--to", "RGBY", "--init", "Y=B");
        assertEquals(7, run.exitCode(), run.out());
        assertTrue(run.out().contains("FAILED"), run.out());
    }

    @Test
    void wrongMapFails(@TempDir Path dir) {
        Path out = adapted(dir);
        TestSupport.Run run = cli("verify", fixture("keras/tiny_vgg.h5").toString(), out.toString(), "--to", "RGBY", "--init", "Y=R");
        assertEquals(7, run.exitCode(), run.out());
    }

    @Test
    void changedUnrelatedTensorFails(@TempDir Path dir) {
        Path out = adapted(dir);
        String other = "/model_weights/block2_conv1/block2_conv1/bias";
        try (Hdf5File h5 = Hdf5File.open(out, true)) {
            double[] values = h5.readDoubles(other);
            values[0] += 1e-3;
            h5.replaceDataset(other, h5.dataset(other).shape(), values);
        }
        TestSupport.Run run = cli("verify", fixture("keras/tiny_vgg.h5").toString(), out.toString());
        assertEquals(7, run.exitCode(), run.out());
        assertTrue(run.out().contains("block2_conv1/bias differs"), run.out());
    }

    @Test
    void onnxScrambledWeightFailsUnderBothChecks(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("rgby.onnx");
        assertEquals(0, cli("extend", fixture("timm/test_resnet.onnx").toString(), "--to", "RGBY", "-o", out.toString()).exitCode());
        Path broken = dir.resolve("broken.onnx");
        TestSupport.python(String.join("\n",
                "import onnx, numpy as np, sys",
                "from onnx import numpy_helper",
                "m = onnx.load(sys.argv[1])",
                "for t in m.graph.initializer:",
                "    if t.name == 'onnx::Conv_147':",
                "        a = numpy_helper.to_array(t).copy()",
                "        a[:, [0, 3]] = a[:, [3, 0]]",
                "        t.CopyFrom(numpy_helper.from_array(a, t.name))",
                "onnx.save(m, sys.argv[2])"), out.toString(), broken.toString());
        TestSupport.Run run = cli("verify", fixture("timm/test_resnet.onnx").toString(), broken.toString(), "--to", "RGBY");
        assertEquals(7, run.exitCode(), run.out());
        assertTrue(run.out().contains("outputs: max |difference|") && run.out().contains("FAILED"), run.out());
    }
}

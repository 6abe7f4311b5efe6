package io.rechannel.keras;

import io.rechannel.TestSupport;
import io.rechannel.hdf5.Hdf5File;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Graph shapes no fixture has: several inputs, the raw input concatenated, branches, flatten, groups. */
class KerasSyntheticModelTest {

    private static Path make(String kind, Path dir) throws Exception {
        Path script = TestSupport.resource("make_synthetic.py");
        Path out = dir.resolve(kind + ".h5");
        TestSupport.python(Files.readString(script), kind, out.toString());
        return out;
    }

    @Test
    void concatenatedInputBranchesAndConfigNormalization(@TempDir Path dir) throws Exception {
        Path model = make("concat", dir);
        assertEquals(2, cli("extend", model.toString(), "--to", "RGBY", "-o", dir.resolve("x.h5").toString()).exitCode(),
                "two inputs need --input");
        Path out = dir.resolve("rgby.h5");
        TestSupport.Run run = cli("extend", model.toString(), "--input", "image", "--to", "RGBY", "--init", "Y=B",
                "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        try (Hdf5File a = Hdf5File.open(model, false); Hdf5File b = Hdf5File.open(out, false)) {
            String mix = "/model_weights/mix/mix/kernel";
            assertArrayEquals(new long[] {3, 3, 5, 5}, b.dataset(mix).shape());
            double[] old = a.readDoubles(mix);
            double[] updated = b.readDoubles(mix);
            int[] source = {0, 1, 2, 3, 3}; // mask stays first; R, G, B, then Y copied from B
            for (int pos = 0; pos < 9; pos++) {
                for (int c = 0; c < 5; c++) {
                    for (int f = 0; f < 5; f++) {
                        assertEquals(old[(pos * 4 + source[c]) * 5 + f], updated[(pos * 5 + c) * 5 + f]);
                    }
                }
            }
            assertArrayEquals(new long[] {1, 1, 4, 2}, b.dataset("/model_weights/side/side/kernel").shape());
        }
        String config = TestSupport.python(String.join("\n",
                "import h5py, json, sys",
                "c = json.loads(h5py.File(sys.argv[1]).attrs['model_config'])['config']['layers']",
                "by = {l['name']: l for l in c}",
                "print(by['image']['config']['batch_shape'][-1], by['mask']['config']['batch_shape'][-1],",
                "      by['norm']['config']['mean'], by['norm']['config']['variance'],",
                "      [a['config']['shape'][-1] for a in by['join']['inbound_nodes'][0]['args'][0]],",
                "      by['mix']['inbound_nodes'][0]['args'][0]['config']['shape'][-1])"), out.toString());
        assertEquals("4 1 [0.1, 0.2, 0.3, 0.3] [1.0, 2.0, 4.0, 4.0] [1, 4] 5", config.trim());
    }

    @Test
    void denseBehindAFlatten(@TempDir Path dir) throws Exception {
        Path model = make("flatten", dir);
        Path out = dir.resolve("rgby.h5");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=0.5*R+0.5*G", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        try (Hdf5File a = Hdf5File.open(model, false); Hdf5File b = Hdf5File.open(out, false)) {
            double[] old = a.readDoubles("/model_weights/head/head/kernel");
            double[] updated = b.readDoubles("/model_weights/head/head/kernel");
            assertEquals(64 * 6, updated.length);
            for (int position = 0; position < 16; position++) {
                for (int f = 0; f < 6; f++) {
                    double r = old[(position * 3) * 6 + f];
                    double g = old[(position * 3 + 1) * 6 + f];
                    assertEquals(r, updated[(position * 4) * 6 + f]);
                    assertEquals((float) (0.5 * r + 0.5 * g), (float) updated[(position * 4 + 3) * 6 + f]);
                }
            }
        }
        String shape = TestSupport.python("import h5py, json, sys; c = json.loads(h5py.File(sys.argv[1]).attrs['model_config']);"
                + " print(c['config']['layers'][2]['inbound_nodes'][0]['args'][0]['config']['shape'])", out.toString());
        assertEquals("[None, 64]", shape.trim());
    }

    @Test
    void separableConvolutionTakesCopiesAndRefusesMixtures(@TempDir Path dir) throws Exception {
        Path model = make("separable", dir);
        Path out = dir.resolve("rgby.h5");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        try (Hdf5File b = Hdf5File.open(out, false)) {
            assertArrayEquals(new long[] {3, 3, 4, 2}, b.dataset("/model_weights/sep/sep/depthwise_kernel").shape());
            assertArrayEquals(new long[] {1, 1, 8, 5}, b.dataset("/model_weights/sep/sep/pointwise_kernel").shape());
        }
        TestSupport.Run recovered = cli("verify", model.toString(), out.toString());
        assertEquals(0, recovered.exitCode(), recovered.out() + recovered.err());
        assertTrue(recovered.out().contains("c3=B"), recovered.out());
        assertEquals(0, cli("extend", model.toString(), "--to", "BGR", "-o", dir.resolve("bgr.h5").toString(), "--verify").exitCode());
        assertEquals(0, cli("extend", model.toString(), "--to", "4", "--init", "timm", "-o", dir.resolve("t.h5").toString(),
                "--verify").exitCode());
        TestSupport.Run mean = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=mean", "-o", dir.resolve("m.h5").toString());
        assertEquals(7, mean.exitCode(), mean.err());
        assertTrue(mean.err().contains("layer 'sep'"), mean.err());
    }

    @Test
    void halfPrecisionCompressedWeightsKeepTheirStorage(@TempDir Path dir) throws Exception {
        Path model = make("float16_gzip", dir);
        Path out = dir.resolve("rgby.h5");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        String storage = TestSupport.python(String.join("\n",
                "import h5py, numpy as np, sys",
                "a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])",
                "k, n = a['model_weights/c/c/kernel'], b['model_weights/c/c/kernel']",
                "print(n.dtype, n.shape, n.compression, n.chunks is not None,",
                "      bool(np.array_equal(n[:, :, :3, :], k[()])), bool(np.array_equal(n[:, :, 3, :], k[:, :, 2, :])))"),
                model.toString(), out.toString());
        assertEquals("float16 (3, 3, 4, 4) gzip True True True", storage.trim());
    }

    @Test
    void groupedConvolutionIsRefusedByName(@TempDir Path dir) throws Exception {
        Path model = make("grouped", dir);
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "-o", dir.resolve("o.h5").toString());
        assertEquals(7, run.exitCode(), run.err());
        assertTrue(run.err().contains("layer 'g'") && run.err().contains("groups=3"), run.err());
    }
}

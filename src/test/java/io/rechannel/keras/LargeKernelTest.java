package io.rechannel.keras;

import io.rechannel.CliChecks;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * First-layer kernels of any size are mixed in blocks: a 25M-parameter Dense behind a Flatten (100 MB)
 * extends and verifies under the launcher's 96 MB heap, and mixing in tiny blocks writes exactly what
 * mixing in one block writes.
 */
class LargeKernelTest {

    private static final Path KERAS_REF = KerasJudge.kerasRef();

    /** Builds and saves, with the real Keras, 128×128×3 → Flatten → Dense(512): a (49152, 512) kernel. */
    private static final String BUILD = String.join("\n",
            "import sys; sys.path.insert(0, sys.argv[1])",
            "import keras_ref; keras = keras_ref.load_keras()",
            "inp = keras.Input((128, 128, 3), name='image')",
            "x = keras.layers.Flatten(name='flat')(inp)",
            "x = keras.layers.Dense(512, name='fc')(x)",
            "keras.Model(inp, x).save(sys.argv[2])");

    /**
     * The reference readers judge the result: h5py reads the kernel (kept channels bit-identical, Y
     * the float32 of 0.5·R + 0.5·G at every position), and Keras runs both models: the adapted one on
     * x' gives what the original gives on Mᵀx'.
     */
    private static final String JUDGE = String.join("\n",
            "import sys; sys.path.insert(0, sys.argv[1])",
            "import h5py, numpy as np",
            "old = h5py.File(sys.argv[2])['model_weights/fc/fc/kernel'][()].reshape(16384, 3, 512)",
            "new = h5py.File(sys.argv[3])['model_weights/fc/fc/kernel'][()].reshape(16384, 4, 512)",
            "assert new.dtype == np.float32",
            "assert (new[:, :3] == old).all()",
            "want = (0.5 * old[:, 0].astype(np.float64) + 0.5 * old[:, 1].astype(np.float64)).astype(np.float32)",
            "assert (new[:, 3] == want).all()",
            "del old, new, want",
            "import keras_ref; keras = keras_ref.load_keras()",
            "a = keras.saving.load_model(sys.argv[2]); b = keras.saving.load_model(sys.argv[3])",
            "x = np.random.default_rng(1).uniform(-1, 1, (2, 128, 128, 4)).astype(np.float32)",
            "m = x[..., :3] + 0.5 * x[..., 3:4] * np.array([1, 1, 0], np.float32)",
            "ya = np.asarray(a.predict(m, verbose=0)); yb = np.asarray(b.predict(x, verbose=0))",
            "print('max relative difference', float(np.abs(ya - yb).max() / np.abs(ya).max()))",
            "assert np.abs(ya - yb).max() <= 1e-4 * np.abs(ya).max()",
            "print('judged')");

    @Test
    void aFlattenDenseOf25MParametersExtendsAndVerifiesUnderTheLaunchersHeap(@TempDir Path dir) throws Exception {
        TestSupport.require(Files.isRegularFile(KERAS_REF.resolve("keras_ref.py")),
                "keras-ref (real Keras, which builds this model) at " + KERAS_REF);
        Path model = dir.resolve("big.h5");
        TestSupport.python(BUILD, KERAS_REF.toString(), model.toString());
        assertTrue(Files.size(model) > 100_000_000L, "a 100 MB model");
        String before = TestSupport.sha256(model);

        TestSupport.Run run = CliChecks.forked(dir, "extend", "big.h5", "--to", "RGBY", "--init", "Y=0.5*R+0.5*G",
                "-o", "big_rgby.h5", "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("/model_weights/fc/fc/kernel [49152, 512] -> [65536, 512] (mixed)"), run.out());
        assertTrue(run.out().contains("verified: big_rgby.h5 = big.h5"), run.out());
        assertTrue(run.out().contains("fc kernel: max |difference|") && run.out().contains(" ok"), run.out());
        assertEquals("", run.err());

        TestSupport.Run recovered = CliChecks.forked(dir, "verify", "big.h5", "big_rgby.h5");
        assertEquals(0, recovered.exitCode(), recovered.out() + recovered.err());
        assertTrue(recovered.out().contains("c3=0.5*R+0.5*G"), recovered.out());

        assertEquals(before, TestSupport.sha256(model), "the input is never modified");
        assertTrue(CliChecks.noPartFiles(dir));
        String judged = TestSupport.python(JUDGE, KERAS_REF.toString(), model.toString(), dir.resolve("big_rgby.h5").toString());
        assertTrue(judged.contains("judged"), judged);
    }

    @ParameterizedTest
    @CsvSource({"keras/tiny_vgg.h5, Y=random", "keras/tiny_vgg.h5, Y=0.25*R-G", "keras/tiny_vgg_trained.h5, Y=B",
        "keras/tiny_vgg.keras, Y=random", "keras/tiny_effnet.h5, mean", "keras/channels_first.keras, timm",
        "keras/conv1d.h5, Y=random", "keras/hpa_nested_vgg.keras, Y=0.5*R+0.5*G"})
    void mixingInTinyBlocksWritesWhatMixingInOneBlockWrites(String name, String init, @TempDir Path dir) throws Exception {
        Path input = fixture(name);
        String suffix = name.substring(name.lastIndexOf('.'));
        Path whole = dir.resolve("whole" + suffix);
        Path blocked = dir.resolve("blocked" + suffix);
        CliChecks.extendInBlocks(input, whole, init, null);
        CliChecks.extendInBlocks(input, blocked, init, "5");
        // replaced datasets carry no object times, so equal values give equal files
        assertEquals(TestSupport.sha256(whole), TestSupport.sha256(blocked));
    }
}

package io.rechannel.transfer;

import io.rechannel.CliChecks;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory follows a block, not the model: a 25M-parameter Dense behind a Flatten (a 100 MB kernel, 200 MB as
 * doubles) transfers from a legacy .h5 into a .keras of the same architecture under the launcher's 96 MB heap,
 * and the archive's kernel is then the pretrained one, value for value (h5py reads it out of the archive).
 */
class LargeTransferTest {

    /** Two 128×128×3 → Flatten → Dense(512) models with their own random weights, saved by real Keras. */
    private static final String BUILD = String.join("\n",
            "import sys; sys.path.insert(0, sys.argv[1])",
            "import keras_ref; keras = keras_ref.load_keras()",
            "def build():",
            "    inp = keras.Input((128, 128, 3), name='image')",
            "    x = keras.layers.Flatten(name='flat')(inp)",
            "    return keras.Model(inp, keras.layers.Dense(512, name='fc')(x))",
            "build().save(sys.argv[2])",
            "build().save(sys.argv[3])");

    /** The output archive's kernel and bias equal the pretrained file's, and differ from the target's own. */
    private static final String JUDGE = String.join("\n",
            "import h5py, io, sys, zipfile, numpy as np",
            "def archive(path):",
            "    return h5py.File(io.BytesIO(zipfile.ZipFile(path).read('model.weights.h5')), 'r')",
            "pre = h5py.File(sys.argv[1], 'r')['model_weights/fc/fc']",
            "own = archive(sys.argv[2])['layers/dense/vars']",
            "out = archive(sys.argv[3])['layers/dense/vars']",
            "assert (out['0'][()] == pre['kernel'][()]).all() and (out['1'][()] == pre['bias'][()]).all()",
            "assert not (own['0'][()] == pre['kernel'][()]).all()",
            "print('judged')");

    @Test
    void aFlattenDenseOf25MParametersTransfersUnderTheLaunchersHeap(@TempDir Path dir) throws Exception {
        Path ref = Path.of(System.getProperty("rechannel.keras-ref", "../shared/keras-ref")).toAbsolutePath().normalize();
        TestSupport.require(Files.isRegularFile(ref.resolve("keras_ref.py")), "keras-ref (real Keras, which builds the models) at " + ref);
        TestSupport.python(BUILD, ref.toString(), dir.resolve("big.h5").toString(), dir.resolve("target.keras").toString());
        assertTrue(Files.size(dir.resolve("big.h5")) > 100_000_000L, "a 100 MB model");

        TestSupport.Run run = CliChecks.forked(dir, "transfer", "--from", "big.h5", "--into", "target.keras", "-o", "out.keras");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("2 target tensors: 2 copied"), run.out());
        assertTrue(CliChecks.noPartFiles(dir));
        String judged = TestSupport.python(JUDGE, dir.resolve("big.h5").toString(), dir.resolve("target.keras").toString(),
                dir.resolve("out.keras").toString());
        assertTrue(judged.contains("judged"), judged);
    }
}

package io.rechannel.keras;

import io.rechannel.TestSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The user's statistics for new channels go to the first normalisation in front of the adapted layers, in the
 * model's order, whether it keeps them in its config (a Normalization given its mean and variance) or in variables
 * (a BatchNormalization's moving statistics): a later normalisation re-indexes its own like any constant.
 */
class FirstNormalisationTest {

    /** Built with the real Keras: Normalization(mean, variance in the config) → BatchNormalization → Conv2D. */
    private static final String BUILD = String.join("\n",
            "import sys; sys.path.insert(0, sys.argv[1])",
            "import keras_ref; keras = keras_ref.load_keras()",
            "import numpy as np",
            "inp = keras.Input((8, 8, 3), name='image')",
            "x = keras.layers.Normalization(mean=[0.5, 0.4, 0.3], variance=[0.04, 0.09, 0.16], name='norm')(inp)",
            "x = keras.layers.BatchNormalization(name='bn')(x)",
            "x = keras.layers.Conv2D(4, 3, name='conv')(x)",
            "m = keras.Model(inp, x, name='norm_then_bn')",
            "m.get_layer('bn').set_weights([np.array(v, 'f4') for v in",
            "    ([1.1, 0.9, 1.2], [0.1, -0.1, 0.2], [0.2, 0.1, -0.3], [1.5, 2.0, 0.5])])",
            "m.save(sys.argv[2])");

    /** The Normalization's config lists and the BatchNormalization's moving statistics, as Keras loads them. */
    private static final String READ = String.join("\n",
            "import sys; sys.path.insert(0, sys.argv[1])",
            "import keras_ref; keras = keras_ref.load_keras()",
            "m = keras.saving.load_model(sys.argv[2])",
            "norm = m.get_layer('norm').get_config()",
            "bn = m.get_layer('bn').get_weights()",
            "print(norm['mean'], norm['variance'], [round(float(v), 4) for v in bn[2]], [round(float(v), 4) for v in bn[3]])");

    @ParameterizedTest
    @ValueSource(strings = {"norm_then_bn.keras", "norm_then_bn.h5"})
    void statisticsGoToTheFirstNormalisationInTheModelsOrder(String name, @TempDir Path dir) throws Exception {
        Path ref = KerasJudge.kerasRef();
        TestSupport.require(Files.isRegularFile(ref.resolve("keras_ref.py")), "keras-ref (real Keras) is not at " + ref);
        Path model = dir.resolve(name);
        TestSupport.python(BUILD, ref.toString(), model.toString());
        Path out = dir.resolve("rgby_" + name);
        TestSupport.Run run = cli("extend", model.toString(), "--from", "RGB", "--to", "RGBY", "--init", "Y=B",
                "--stats", "Y=mean:0.7,std:0.5", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertEquals("[0.5, 0.4, 0.3, 0.7] [0.04, 0.09, 0.16, 0.25] [0.2, 0.1, -0.3, -0.3] [1.5, 2.0, 0.5, 0.5]",
                TestSupport.python(READ, ref.toString(), out.toString()).trim());
    }
}

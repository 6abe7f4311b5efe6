package io.rechannel.onnx;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ONNX graph shapes no fixture has, each checked end to end under ONNX Runtime. */
class OnnxSyntheticModelTest {

    private static Path make(String kind, Path dir) throws Exception {
        Path out = dir.resolve(kind + ".onnx");
        TestSupport.python(Files.readString(TestSupport.resource("make_onnx.py")), kind, out.toString());
        return out;
    }

    static Stream<Arguments> kindsAndInitialisations() {
        return Stream.of("nhwc", "flatten", "conv1d", "constant_node", "transpose_conv")
                .flatMap(kind -> Stream.of("Y=B", "Y=0.25*R-G", "random").map(init -> Arguments.of(kind, init)));
    }

    @ParameterizedTest(name = "{0} --init {1}")
    @MethodSource("kindsAndInitialisations")
    void adaptsAndVerifiesWholeModel(String kind, String init, @TempDir Path dir) throws Exception {
        Path model = make(kind, dir);
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", init, "-o", dir.resolve("rgby.onnx").toString(),
                "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("(whole model, ONNX Runtime) outputs"), run.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"nhwc", "flatten", "conv1d", "constant_node", "transpose_conv"})
    void reducesToGrayAndVerifies(String kind, @TempDir Path dir) throws Exception {
        Path model = make(kind, dir);
        TestSupport.Run reduce = cli("extend", model.toString(), "--to", "L", "--init", "L=0.299*R+0.587*G+0.114*B",
                "-o", dir.resolve("l.onnx").toString(), "--verify");
        assertEquals(0, reduce.exitCode(), reduce.out() + reduce.err());
    }

    /**
     * The user's statistics go to the first mean and the spread that goes with it: an NHWC input keeps its layout;
     * a per-channel gain in front of the normalisation takes the map's copy, not a statistic.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "nhwc | mean std | ['batch', 8, 8, 4] [0.485, 0.456, 0.406, 0.08] [0.229, 0.224, 0.225, 0.12]",
        "scaled_then_normalised | gain mean std | [1, 4, 8, 8] [2.0, 3.0, 4.0, 4.0] [0.4, 0.5, 0.6, 0.08] [0.2, 0.3, 0.25, 0.12]"})
    void theUsersStatisticsGoToTheFirstNormalisation(String kind, String constants, String expected, @TempDir Path dir)
            throws Exception {
        Path model = make(kind, dir);
        Path out = dir.resolve("rgby.onnx");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "--stats", "Y=mean:0.08,std:0.12",
                "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertEquals(expected, inputAndConstants(out, constants.split(" ")));
    }

    /** The model's (checked) input shape and the values of {@code initializers}, rounded to 3 decimals. */
    private static String inputAndConstants(Path model, String... initializers) throws Exception {
        return TestSupport.python(String.join("\n",
                "import onnx, sys",
                "from onnx import numpy_helper",
                "m = onnx.load(sys.argv[1]); onnx.checker.check_model(m)",
                "inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}",
                "print([d.dim_value or d.dim_param for d in m.graph.input[0].type.tensor_type.shape.dim],",
                "      *([round(float(v), 3) for v in inits[n].ravel()] for n in sys.argv[2:]))"),
                Stream.concat(Stream.of(model.toString()), Stream.of(initializers)).toArray(String[]::new)).trim();
    }

    /** Mixed half-precision weights are checked within float16's precision (its rounding is no difference). */
    @Test
    void halfPrecisionModelsVerify(@TempDir Path dir) throws Exception {
        Path model = make("float16", dir);
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=0.3*R+0.7*G",
                "-o", dir.resolve("o.onnx").toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("W: max |difference|") && run.out().contains("is not float32"), run.out());
    }

    @Test
    void byteInputsAreProvedLayerByLayer(@TempDir Path dir) throws Exception {
        Path model = make("uint8_input", dir);
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "-o", dir.resolve("o.onnx").toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("is not float32"), run.out());
        assertTrue(run.out().contains("W: max |difference|"), run.out());
    }

    @Test
    void modelWithNothingReadingTheChannelsIsRefused(@TempDir Path dir) throws Exception {
        Path model = make("noconv", dir);
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "-o", dir.resolve("o.onnx").toString());
        assertEquals(5, run.exitCode(), run.err());
        assertTrue(run.err().contains("no convolution or dense layer reads input 'x'"), run.err());
    }

    @Test
    void groupedConvolutionIsRefusedByName(@TempDir Path dir) throws Exception {
        Path model = make("grouped", dir);
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "-o", dir.resolve("o.onnx").toString());
        assertEquals(7, run.exitCode(), run.err());
        assertTrue(run.err().contains("group=3"), run.err());
    }
}

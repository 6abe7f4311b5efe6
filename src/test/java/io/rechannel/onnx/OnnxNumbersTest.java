package io.rechannel.onnx;

import io.rechannel.CliChecks;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Numbers in ONNX files: only finite values are adapted, only values the weight's type holds are written, NaN never verifies. */
class OnnxNumbersTest {

    /**
     * (x - mean) / std → Conv(w): argv = out, weight type (float32, float16), where a bad value goes
     * (none, w, mean), the bad value, storage (inline, external).
     */
    private static final String BUILD = String.join("\n",
            "import sys, numpy as np, onnx",
            "from onnx import helper, numpy_helper, TensorProto",
            "out, dtype, bad, value, storage = sys.argv[1:6]",
            "rng = np.random.default_rng(2)",
            "w = (rng.uniform(0.2, 1, (4, 3, 3, 3)) * rng.choice([-1, 1], (4, 3, 3, 3))).astype(dtype)",
            "mean = np.array([0.4, 0.5, 0.6], np.float32).reshape(1, 3, 1, 1)",
            "std = np.array([0.2, 0.25, 0.3], np.float32).reshape(1, 3, 1, 1)",
            "if bad == 'w': w[1, 2, 0, 0] = float(value)",
            "if bad == 'mean': mean[0, 1, 0, 0] = float(value)",
            "elem = TensorProto.FLOAT16 if dtype == 'float16' else TensorProto.FLOAT",
            "nodes = [helper.make_node('Sub', ['x', 'mean'], ['c'], name='sub'),",
            "         helper.make_node('Div', ['c', 'std'], ['n'], name='div')]",
            "if dtype == 'float16': nodes.append(helper.make_node('Cast', ['n'], ['h'], to=elem, name='cast'))",
            "nodes.append(helper.make_node('Conv', ['h' if dtype == 'float16' else 'n', 'w'], ['y'], name='conv'))",
            "graph = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3, 8, 8])],",
            "    [helper.make_tensor_value_info('y', elem, [1, 4, 6, 6])],",
            "    [numpy_helper.from_array(w, 'w'), numpy_helper.from_array(mean, 'mean'), numpy_helper.from_array(std, 'std')])",
            "m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])",
            "m.ir_version = 8",
            "if storage == 'external':",
            "    onnx.save(m, out, save_as_external_data=True, all_tensors_to_one_file=True, location='model.data', size_threshold=0)",
            "else:",
            "    onnx.save(m, out)");

    private static Path model(Path dir, String dtype, String bad, String value, String storage) throws Exception {
        Path out = dir.resolve("model.onnx");
        TestSupport.python(BUILD, out.toString(), dtype, bad, value, storage);
        return out;
    }

    private static TestSupport.Run extend(Path model, Path dir, String... options) {
        String[] head = {"extend", model.toString(), "--to", "RGBY", "-o", dir.resolve("out.onnx").toString()};
        String[] args = java.util.Arrays.copyOf(head, head.length + options.length);
        System.arraycopy(options, 0, args, head.length, options.length);
        return cli(args);
    }

    private static void assertRefused(TestSupport.Run run, int code, Path dir, String... expected) throws Exception {
        CliChecks.assertRefused(run, code, dir.resolve("out.onnx"), expected);
    }

    @ParameterizedTest
    @CsvSource({"float32, inline, Y=1e300*R", "float32, external, Y=1e39*R+1e39*G", "float16, inline, Y=1e5*R"})
    void aMixBeyondTheWeightsTypeIsRefusedNamingIt(String dtype, String storage, String init, @TempDir Path dir)
            throws Exception {
        Path model = model(dir, dtype, "none", "0", storage);
        assertRefused(extend(model, dir, "--init", init), 7, dir, model + ": 'w' (" + dtype + ") would hold");
    }

    @ParameterizedTest
    @CsvSource({"w, nan, inline, NaN", "w, inf, external, Infinity", "mean, -inf, inline, -Infinity"})
    void nanOrInfinityInTheModelIsRefusedAsDamaged(String bad, String value, String storage, String read,
                                                   @TempDir Path dir) throws Exception {
        Path model = model(dir, "float32", bad, value, storage);
        assertRefused(extend(model, dir, "--init", "Y=B"), 4, dir, model + ": '" + bad + "' holds " + read);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Y=mean:Infinity,std:1", "Y=mean:NaN,std:NaN", "Y=mean:0.5,std:0"})
    void nonFiniteStatisticsAreUsageErrors(String stats, @TempDir Path dir) throws Exception {
        assertRefused(extend(model(dir, "float32", "none", "0", "inline"), dir, "--stats", stats), 2, dir, "--stats " + stats);
    }

    @ParameterizedTest
    @CsvSource({"nan, inline", "inf, external"})
    void nanOrInfinityNeverVerifies(String value, String storage, @TempDir Path dir) throws Exception {
        Path out = tampered(dir, storage, "w", "[0, 3, 1, 1]", value);
        CliChecks.assertNeverVerifies(dir.resolve("model.onnx"), out, "conv w", "layer 'conv'");
    }

    /** A per-channel constant of a new channel tampered with NaN or infinity: verify fails and says which. */
    @ParameterizedTest
    @CsvSource({"nan, inline", "-inf, external"})
    void aNaNConstantNeverVerifies(String value, String storage, @TempDir Path dir) throws Exception {
        Path out = tampered(dir, storage, "mean", "[0, 3, 0, 0]", value);
        TestSupport.Run run = cli("verify", dir.resolve("model.onnx").toString(), out.toString(), "--to", "RGBY",
                "--init", "Y=B");
        assertEquals(7, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().startsWith("NOT verified: "), run.out());
        assertTrue(run.out().contains("problem: " + out + ": 'mean' of layer 'sub' holds NaN or infinity"), run.out());
    }

    /** An exact adaptation (Y=B, verified) whose initializer {@code name} then gets {@code value} at {@code index}. */
    private static Path tampered(Path dir, String storage, String name, String index, String value) throws Exception {
        Path model = model(dir, "float32", "none", "0", storage);
        Path out = dir.resolve("out.onnx");
        TestSupport.Run run = extend(model, dir, "--init", "Y=B", "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        TestSupport.python(String.join("\n",
                "import sys, onnx",
                "from onnx import numpy_helper",
                "m = onnx.load(sys.argv[1])",
                "t = [t for t in m.graph.initializer if t.name == sys.argv[3]][0]",
                "w = numpy_helper.to_array(t).copy(); w[tuple(" + index + ")] = float(sys.argv[2])",
                "t.CopyFrom(numpy_helper.from_array(w, sys.argv[3]))",
                "onnx.save(m, sys.argv[1])"), out.toString(), value, name);
        return out;
    }
}

package io.rechannel.onnx;

import io.rechannel.CliChecks;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * verify of an ONNX model with more weights than ONNX Runtime is given whole (more than 128 MB): the runtime
 * check runs the sub-graph computing the adapted layers' outputs, every node outside it must be the
 * original's, and each step that takes a while says so on stderr.
 */
class LargeModelRuntimeCheckTest {

    /** Conv(3 → 8) → Relu → Flatten → Gemm with a (1100, 32768) weight: 144 MB, nearly all of it after the conv. */
    private static final String BUILD = String.join("\n",
            "import sys, numpy as np, onnx",
            "from onnx import helper, numpy_helper, TensorProto",
            "rng = np.random.default_rng(7)",
            "conv = rng.standard_normal((8, 3, 3, 3), dtype=np.float32)",
            "fc = rng.standard_normal((1100, 8 * 64 * 64), dtype=np.float32) * np.float32(0.01)",
            "graph = helper.make_graph(",
            "    [helper.make_node('Conv', ['image', 'conv.weight'], ['features'], pads=[1, 1, 1, 1], name='conv'),",
            "     helper.make_node('Relu', ['features'], ['active'], name='relu'),",
            "     helper.make_node('Flatten', ['active'], ['flat'], axis=1, name='flatten'),",
            "     helper.make_node('Gemm', ['flat', 'fc.weight'], ['logits'], transB=1, name='fc')],",
            "    'large', [helper.make_tensor_value_info('image', TensorProto.FLOAT, ['batch', 3, 64, 64])],",
            "    [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', 1100])],",
            "    [numpy_helper.from_array(conv, 'conv.weight'), numpy_helper.from_array(fc, 'fc.weight')])",
            "model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])",
            "model.ir_version = 8",
            "onnx.save(model, sys.argv[1])");

    /** The adapted model with its classifier scaled by 2 (Gemm alpha): a node after the adapted layer changed. */
    private static final String TAMPER = String.join("\n",
            "import sys, onnx",
            "from onnx import helper",
            "m = onnx.load(sys.argv[1])",
            "[n for n in m.graph.node if n.name == 'fc'][0].attribute.append(helper.make_attribute('alpha', 2.0))",
            "onnx.save(m, sys.argv[2])");

    @TempDir
    static Path dir;

    @BeforeAll
    static void build() throws Exception {
        TestSupport.python(BUILD, dir.resolve("large.onnx").toString());
        assertTrue(Files.size(dir.resolve("large.onnx")) > OnnxRuntimeCheck.WHOLE_MODEL_BYTES);
        TestSupport.Run run = TestSupport.cli("extend", dir.resolve("large.onnx").toString(), "--to", "RGBY", "--init", "Y=B",
                "-o", dir.resolve("large4.onnx").toString());
        assertEquals(0, run.exitCode(), run.out() + run.err());
    }

    @Test
    void runsTheAdaptedLayersAndProvesTheRestIdentical() throws Exception {
        TestSupport.Run run = CliChecks.forked(dir, "verify", "large.onnx", "large4.onnx", "--to", "RGBY", "--init", "Y=B");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().lines().anyMatch(l -> l.startsWith("  (adapted layers' outputs, ONNX Runtime) outputs: ")
                && l.endsWith(" ok")), run.out());
        assertTrue(run.out().contains("note: ONNX Runtime ran the node computing the adapted layers' outputs, not the whole"
                + " model (more than 128 MB of weights); the other 3 nodes are identical to the original's"), run.out());
        assertEquals("", run.err());
    }

    @Test
    void aChangedNodeAfterTheAdaptedLayersIsAProblem() throws Exception {
        Path tampered = dir.resolve("tampered.onnx");
        TestSupport.python(TAMPER, dir.resolve("large4.onnx").toString(), tampered.toString());
        TestSupport.Run run = TestSupport.cli("verify", dir.resolve("large.onnx").toString(), tampered.toString(),
                "--to", "RGBY", "--init", "Y=B");
        assertEquals(7, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().startsWith("NOT verified: "), run.out());
        assertTrue(run.out().contains("problem: " + tampered + ": node 'fc' differs from the original's"), run.out());
        Files.delete(tampered);
    }

    /** Each step over the delay shows a bar on stderr (here at once, and without a console, as asked). */
    @Test
    void everyStepOfVerifyShowsItsProgress() throws Exception {
        List<String> always = List.of("-Drechannel.progress=always", "-Drechannel.progress.delay=0");
        TestSupport.Run large = CliChecks.forked(dir, always, "verify", "large.onnx", "large4.onnx");
        assertEquals(0, large.exitCode(), large.out() + large.err());
        for (String step : List.of("reading large.onnx", "reading large4.onnx", "comparing large4.onnx with the original",
                "running the adapted layers of large.onnx in ONNX Runtime", "running the adapted layers of large4.onnx in ONNX Runtime")) {
            assertTrue(large.err().contains(step), step + " in: " + large.err());
        }
        Path small = Path.of("examples/small_cnn.onnx").toAbsolutePath();
        TestSupport.Run whole = CliChecks.forked(dir, always, "extend", small.toString(), "--to", "4", "-o", "small4.onnx", "--verify");
        assertEquals(0, whole.exitCode(), whole.out() + whole.err());
        assertTrue(whole.err().contains("running small_cnn.onnx in ONNX Runtime"), whole.err());
        assertTrue(whole.err().contains("running small4.onnx in ONNX Runtime"), whole.err());
    }
}

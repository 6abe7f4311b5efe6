package io.rechannel.onnx;

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
 * The ONNX side of bounded memory: a Flatten → Gemm of 25M parameters (100 MB) is re-mixed block by
 * block and streamed into the output under the launcher's 96 MB heap, and verified; tiny blocks give
 * the very same file as one block.
 */
class LargeGemmTest {

    /** NCHW 3×128×128 → Flatten → Gemm(transB=1) with a (512, 49152) weight, as torch exports a Linear. */
    private static final String BUILD = String.join("\n",
            "import sys, numpy as np, onnx",
            "from onnx import helper, numpy_helper, TensorProto",
            "rng = np.random.default_rng(5)",
            "w = rng.standard_normal((512, 3 * 128 * 128), dtype=np.float32) * np.float32(0.01)",
            "b = rng.standard_normal(512).astype(np.float32)",
            "graph = helper.make_graph(",
            "    [helper.make_node('Flatten', ['image'], ['flat'], axis=1, name='flatten'),",
            "     helper.make_node('Gemm', ['flat', 'fc.weight', 'fc.bias'], ['logits'], transB=1, name='fc')],",
            "    'big_gemm',",
            "    [helper.make_tensor_value_info('image', TensorProto.FLOAT, ['batch', 3, 128, 128])],",
            "    [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['batch', 512])],",
            "    [numpy_helper.from_array(w, 'fc.weight'), numpy_helper.from_array(b, 'fc.bias')])",
            "model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])",
            "model.ir_version = 8",
            "onnx.save(model, sys.argv[1])");

    /** The reference reader: the ONNX checker accepts the file, and the weight is the original with Y = B. */
    private static final String JUDGE = String.join("\n",
            "import sys, numpy as np, onnx",
            "from onnx import numpy_helper",
            "onnx.checker.check_model(sys.argv[2])",
            "def weight(p):",
            "    return {t.name: numpy_helper.to_array(t) for t in onnx.load(p).graph.initializer}",
            "a, b = weight(sys.argv[1]), weight(sys.argv[2])",
            "old = a['fc.weight'].reshape(512, 3, 16384)",
            "new = b['fc.weight'].reshape(512, 4, 16384)",
            "assert (new[:, :3] == old).all() and (new[:, 3] == old[:, 2]).all()",
            "assert (a['fc.bias'] == b['fc.bias']).all()",
            "print('judged', new.shape)");

    @Test
    void aFlattenGemmOf25MParametersExtendsAndVerifiesUnderTheLaunchersHeap(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("big.onnx");
        TestSupport.python(BUILD, model.toString());
        assertTrue(Files.size(model) > 100_000_000L, "a 100 MB model");
        String before = TestSupport.sha256(model);

        TestSupport.Run run = CliChecks.forked(dir, "extend", "big.onnx", "--to", "RGBY", "--init", "Y=B", "-o", "big4.onnx",
                "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("fc.weight [512, 49152] -> [512, 65536] (copied)"), run.out());
        assertTrue(run.out().contains("verified: big4.onnx = big.onnx"), run.out());
        assertTrue(run.out().contains("(whole model, ONNX Runtime) outputs") && run.out().contains(" ok"), run.out());

        TestSupport.Run recovered = CliChecks.forked(dir, "verify", "big.onnx", "big4.onnx");
        assertEquals(0, recovered.exitCode(), recovered.out() + recovered.err());
        assertTrue(recovered.out().contains("c3=B"), recovered.out());

        assertEquals(before, TestSupport.sha256(model), "the input is never modified");
        assertTrue(CliChecks.noPartFiles(dir));
        String judged = TestSupport.python(JUDGE, model.toString(), dir.resolve("big4.onnx").toString());
        assertTrue(judged.contains("judged (512, 4, 16384)"), judged);
    }

    @ParameterizedTest
    @CsvSource({"onnx/external_data.onnx, Y=random", "onnx/dynamo_export.onnx, Y=0.25*R-G", "timm/test_resnet.onnx, timm",
        "timm/test_vit.onnx, mean", "timm/test_efficientnet.onnx, Y=random"})
    void mixingInTinyBlocksWritesTheSameFile(String name, String init, @TempDir Path dir) throws Exception {
        Path input = fixture(name);
        // one name in two folders: the output names its external-data file after itself
        Path whole = Files.createDirectory(dir.resolve("whole")).resolve("out.onnx");
        Path blocked = Files.createDirectory(dir.resolve("blocked")).resolve("out.onnx");
        CliChecks.extendInBlocks(input, whole, init, null);
        CliChecks.extendInBlocks(input, blocked, init, "3");
        assertEquals(TestSupport.sha256(whole), TestSupport.sha256(blocked));
        Path data = Path.of(whole + ".data");
        assertEquals(Files.exists(Path.of(input + ".data")), Files.exists(data));
        if (Files.exists(data)) {
            assertEquals(TestSupport.sha256(data), TestSupport.sha256(Path.of(blocked + ".data")));
        }
    }
}

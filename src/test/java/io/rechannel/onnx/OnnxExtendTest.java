package io.rechannel.onnx;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OnnxExtendTest {

    /** The reference reader (Debian's python3-onnx): the checker where its IR version allows, and the input shape. */
    private static final String CHECK = String.join("\n",
            "import onnx, sys",
            "m = onnx.load(sys.argv[1])",
            "if m.ir_version <= 8: onnx.checker.check_model(m)",
            "i = m.graph.input[0]",
            "print([d.dim_value or d.dim_param for d in i.type.tensor_type.shape.dim])");

    @TempDir
    static Path shared;

    /** Each fixture with the input shape its RGBY version declares, and each initialisation. */
    static Stream<Arguments> fixturesAndInitialisations() {
        Map<String, String> shapes = new LinkedHashMap<>();
        shapes.put("onnx/dynamo_export.onnx", "[2, 4, 32, 32]");
        shapes.put("onnx/external_data.onnx", "['batch', 4, 32, 32]");
        for (String timm : new String[] {"timm/test_resnet.onnx", "timm/test_efficientnet.onnx", "timm/test_vit.onnx"}) {
            shapes.put(timm, "['batch', 4, 160, 160]");
        }
        return shapes.entrySet().stream().flatMap(e -> Stream.of("Y=B", "mean", "zeros", "random", "Y=0.5*R+0.5*G")
                .map(init -> Arguments.of(e.getKey(), init, e.getValue())));
    }

    @ParameterizedTest(name = "{0} --init {1}")
    @MethodSource("fixturesAndInitialisations")
    void fixturesExtendAndVerifyUnderOnnxRuntime(String name, String init, String shape, @TempDir Path dir) throws Exception {
        Path input = fixture(name);
        String before = TestSupport.sha256(input);
        Path out = dir.resolve("rgby.onnx");
        TestSupport.Run run = cli("extend", input.toString(), "--to", "RGBY", "--init", init, "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("ONNX Runtime"), run.out());
        assertEquals(before, TestSupport.sha256(input));
        assertEquals(shape, TestSupport.python(CHECK, out.toString()).trim());
        boolean external = Files.exists(Path.of(input + ".data"));
        assertEquals(external, Files.exists(dir.resolve("rgby.onnx.data")), "own external-data file beside the output");
        if (!init.equals("random")) {
            // without the map, verify recovers it (a fresh random channel has none to recover)
            TestSupport.Run recovered = cli("verify", input.toString(), out.toString());
            assertEquals(0, recovered.exitCode(), recovered.out() + recovered.err());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tv_vgg19.onnx.xz", "tv_resnet50.onnx.xz", "tv_efficientnet_b0.onnx.xz", "timm_resnet50.onnx.xz",
        "timm_efficientnet_b0.onnx.xz", "timm_resnet18.onnx.xz"})
    void largeModelsWithSharedZeroInitializers(String name, @TempDir Path dir) throws Exception {
        Path model = TestSupport.unxz("onnx-apps/" + name, dir);
        Path out = dir.resolve("rgby.onnx");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "-o", out.toString());
        assertEquals(0, run.exitCode(), run.out() + run.err());
        TestSupport.Run verify = cli("verify", model.toString(), out.toString(), "--to", "RGBY", "--init", "Y=B");
        // zero-filled weights agree with any channel map: no difference, and nothing proven
        assertEquals(8, verify.exitCode(), verify.out() + verify.err());
        assertTrue(verify.out().startsWith("not provable from the weights: "), verify.out());
        assertTrue(verify.out().contains("not provable from the weights (all taps zero)"), verify.out());
        assertTrue(verify.out().contains("other tensors bit-identical"), verify.out());
        TestSupport.Run recovered = cli("verify", model.toString(), out.toString());
        assertEquals(8, recovered.exitCode(), recovered.out() + recovered.err());
        assertTrue(recovered.err().contains("the channel map cannot be recovered"), recovered.err());
        Files.delete(model);
    }

    /**
     * A real export whose first convolution's weight is shared the way the TorchScript exporter shares tensors:
     * also read, through an Identity node, by another graph output. The convolution gets its own copy; the shared
     * tensor stays as it was for its other reader; every other initializer keeps its shape.
     */
    @Test
    void sharedInitializerIsCopiedNotChangedForItsOtherUsers(@TempDir Path dir) throws Exception {
        Path exported = TestSupport.unxz("onnx-apps/timm_resnet18.onnx.xz", dir);
        Path model = dir.resolve("shared.onnx");
        TestSupport.python(String.join("\n",
                "import onnx, sys",
                "from onnx import helper",
                "m = onnx.load(sys.argv[1]); g = m.graph",
                "w = next(t for t in g.initializer if t.name == 'conv1.weight')",
                "g.node.append(helper.make_node('Identity', [w.name], ['stem_weight'], name='stem_weight_alias'))",
                "g.output.append(helper.make_tensor_value_info('stem_weight', w.data_type, list(w.dims)))",
                "onnx.save(m, sys.argv[2])"), exported.toString(), model.toString());
        String readers = String.join("\n",
                "import onnx, sys",
                "m = onnx.load(sys.argv[1])",
                "dims = {t.name: list(t.dims) for t in m.graph.initializer}",
                "print(dims.get('conv1.weight'), dims.get('conv1.weight_rechannel'),",
                "      sorted((n.name, n.input[0] if n.op_type == 'Identity' else n.input[1]) for n in m.graph.node",
                "             if {'conv1.weight', 'conv1.weight_rechannel'} & set(n.input)))");
        assertEquals("[64, 3, 7, 7] None [('/conv1/Conv', 'conv1.weight'), ('stem_weight_alias', 'conv1.weight')]",
                TestSupport.python(readers, model.toString()).trim(), "the weight is shared in the input");
        Path out = dir.resolve("rgby.onnx");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("a copy of shared conv1.weight"), run.out());
        assertEquals("[64, 3, 7, 7] [64, 4, 7, 7] [('/conv1/Conv', 'conv1.weight_rechannel'), ('stem_weight_alias', 'conv1.weight')]",
                TestSupport.python(readers, out.toString()).trim());
        String others = String.join("\n",
                "import onnx, sys",
                "a, b = onnx.load(sys.argv[1]), onnx.load(sys.argv[2])",
                "ia = {t.name: list(t.dims) for t in a.graph.initializer}",
                "ib = {t.name: list(t.dims) for t in b.graph.initializer if t.name != 'conv1.weight_rechannel'}",
                "print(ia == ib)");
        assertEquals("True", TestSupport.python(others, model.toString(), out.toString()).trim());
    }

    /** The first convolution's weight is also, through an Identity node, the second's: only the first may change. */
    @Test
    void sharedWeightGetsItsOwnCopy(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("shared.onnx");
        TestSupport.python(String.join("\n",
                "import onnx, numpy as np, sys",
                "from onnx import helper, numpy_helper, TensorProto",
                "w = numpy_helper.from_array(np.random.default_rng(1).standard_normal((3, 3, 3, 3)).astype(np.float32), 'W')",
                "nodes = [helper.make_node('Conv', ['x', 'W'], ['y'], name='first', pads=[1, 1, 1, 1]),",
                "         helper.make_node('Identity', ['W'], ['W_alias']),",
                "         helper.make_node('Relu', ['y'], ['r']),",
                "         helper.make_node('Conv', ['r', 'W_alias'], ['z'], name='second', pads=[1, 1, 1, 1])]",
                "g = helper.make_graph(nodes, 'shared', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3, 8, 8])],",
                "                      [helper.make_tensor_value_info('z', TensorProto.FLOAT, [1, 3, 8, 8])], [w])",
                "m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]); m.ir_version = 8",
                "onnx.checker.check_model(m); onnx.save(m, sys.argv[1])"), model.toString());
        Path out = dir.resolve("rgby.onnx");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("a copy of shared W"), run.out());
        String report = TestSupport.python(String.join("\n",
                "import onnx, sys",
                "m = onnx.load(sys.argv[1]); onnx.checker.check_model(m)",
                "print(sorted((t.name, list(t.dims)) for t in m.graph.initializer), [list(n.input) for n in m.graph.node if n.op_type == 'Conv'])"),
                out.toString());
        assertEquals("[('W', [3, 3, 3, 3]), ('W_rechannel', [3, 4, 3, 3])] [['x', 'W_rechannel'], ['r', 'W_alias']]", report.trim());
    }

    @Test
    void badInputsFailCleanly(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("bad.onnx");
        Files.writeString(text, "this is not a model");
        TestSupport.Run notOnnx = cli("extend", text.toString(), "--to", "RGBY", "-o", dir.resolve("o.onnx").toString());
        assertEquals(4, notOnnx.exitCode(), notOnnx.err());
        assertEquals(1, notOnnx.err().lines().count(), notOnnx.err());

        byte[] bytes = Files.readAllBytes(fixture("timm/test_resnet.onnx"));
        Path cut = dir.resolve("cut.onnx");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        TestSupport.Run truncated = cli("extend", cut.toString(), "--to", "RGBY", "-o", dir.resolve("o.onnx").toString());
        assertEquals(4, truncated.exitCode(), truncated.err());

        Path lonely = dir.resolve("external_data.onnx");
        Files.copy(fixture("onnx/external_data.onnx"), lonely);
        TestSupport.Run missing = cli("extend", lonely.toString(), "--to", "RGBY", "-o", dir.resolve("o.onnx").toString());
        assertEquals(3, missing.exitCode(), missing.err());
        assertTrue(missing.err().contains("external data file"), missing.err());

        TestSupport.Run wrongInput = cli("extend", fixture("timm/test_resnet.onnx").toString(), "--input", "pixels",
                "--to", "RGBY", "-o", dir.resolve("o.onnx").toString());
        assertEquals(2, wrongInput.exitCode(), wrongInput.err());
        assertTrue(wrongInput.err().contains("no input named 'pixels'"), wrongInput.err());
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().startsWith("o.onnx")
                    || p.getFileName().toString().endsWith(".part")), "nothing left behind");
        }
    }

    @Test
    void inspectNamesTheLayerAndItsWeight() {
        TestSupport.Run run = cli("inspect", fixture("timm/test_vit.onnx").toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("patch_embed.proj.weight=[64, 3, 16, 16]"), run.out());
    }

    /**
     * The ONNX project's own backend test models (Debian's libonnx-testdata): each is read and written
     * back with no change, byte for byte, and inspected without failing.
     */
    @TestFactory
    Stream<DynamicNode> backendTestModelsRoundTrip() {
        return TestSupport.dynamic("the ONNX backend test models", () -> {
            Path root = Path.of("/usr/share/libonnx-testdata/data");
            TestSupport.require(Files.isDirectory(root), "Debian's libonnx-testdata is not installed (" + root + ")");
            List<Path> models;
            try (var walk = Files.walk(root)) {
                models = walk.filter(p -> p.getFileName().toString().equals("model.onnx")).sorted().toList();
            }
            assertTrue(models.size() > 1000, "found " + models.size());
            return models.stream().map(model -> DynamicTest.dynamicTest(root.relativize(model.getParent()).toString(), () -> {
                Path copy = shared.resolve("copy.onnx");
                OnnxFile file = OnnxFile.read(model);
                Files.deleteIfExists(copy);
                Files.createFile(copy);
                OnnxWriter.write(file, new OnnxEdits(), copy);
                assertTrue(Arrays.equals(Files.readAllBytes(model), Files.readAllBytes(copy)), "written back changed");
                TestSupport.Run inspect = cli("inspect", model.toString(), "--json");
                assertEquals(0, inspect.exitCode(), inspect.err());
            }));
        });
    }
}

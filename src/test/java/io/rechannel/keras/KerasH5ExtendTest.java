package io.rechannel.keras;

import io.rechannel.TestSupport;
import io.rechannel.hdf5.Hdf5File;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** extend + verify on the real Keras files, checked in Java and with h5py. */
class KerasH5ExtendTest {

    private static final String KERNEL = "/model_weights/block1_conv1/block1_conv1/kernel";

    @TempDir
    static Path shared;

    /** h5py: every group, dataset (with shape and dtype) and attribute name of a file, one per line. */
    private static final String LAYOUT = String.join("\n",
            "import h5py, sys",
            "f = h5py.File(sys.argv[1], 'r')",
            "out = []",
            "def visit(name, obj):",
            "    kind = 'D %s %s' % (obj.shape[:-2] if 'block1_conv1/kernel' in name else obj.shape, obj.dtype) if isinstance(obj, h5py.Dataset) else 'G'",
            "    out.append('%s %s %s' % (name, kind, sorted(obj.attrs.keys())))",
            "f.visititems(visit)",
            "out.append('/ %s' % sorted((k, type(f.attrs[k]).__name__) for k in f.attrs.keys()))",
            "print('\\n'.join(out))");

    /** h5py: the names of the config's layers and of the weight groups. */
    private static final String LAYERS = String.join("\n",
            "import h5py, json, sys",
            "f = h5py.File(sys.argv[1]); c = json.loads(f.attrs['model_config'])",
            "print([l['config']['name'] for l in c['config']['layers']], sorted(f['model_weights']))");

    @Test
    void copyLastAppendsTheLastInputSliceAndKeepsEverythingElse(@TempDir Path dir) throws Exception {
        Path input = fixture("keras/tiny_vgg.h5");
        String before = TestSupport.sha256(input);
        Path out = dir.resolve("rgby.h5");
        TestSupport.Run run = cli("extend", input.toString(), "--from", "RGB", "--to", "RGBY", "--init", "copy-last", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("verified"), run.out());
        assertEquals(before, TestSupport.sha256(input), "input modified");
        try (Hdf5File a = Hdf5File.open(input, false); Hdf5File b = Hdf5File.open(out, false)) {
            assertArrayEquals(new long[] {3, 3, 4, 8}, b.dataset(KERNEL).shape());
            double[] old = a.readDoubles(KERNEL);
            double[] updated = b.readDoubles(KERNEL);
            for (int pos = 0; pos < 9; pos++) {
                for (int c = 0; c < 4; c++) {
                    for (int f = 0; f < 8; f++) {
                        assertEquals(old[(pos * 3 + Math.min(c, 2)) * 8 + f], updated[(pos * 4 + c) * 8 + f]);
                    }
                }
            }
            for (String path : a.datasets("/")) {
                if (!path.equals(KERNEL)) {
                    assertArrayEquals(a.readRows(path, 0, a.dataset(path).shape().length == 0 ? 1 : a.dataset(path).shape()[0]),
                            b.readRows(path, 0, b.dataset(path).shape().length == 0 ? 1 : b.dataset(path).shape()[0]), path);
                }
            }
        }
        // the reference reader sees the same layout, attribute names and attribute types
        assertEquals(TestSupport.python(LAYOUT, input.toString()), TestSupport.python(LAYOUT, out.toString()));
        String config = TestSupport.python("import h5py, json, sys; c = json.loads(h5py.File(sys.argv[1])['/'].attrs['model_config']);"
                + " print(c['config']['layers'][0]['config']['batch_shape'], c['config']['layers'][1]['inbound_nodes'][0]['args'][0]['config']['shape'])",
                out.toString());
        assertEquals("[None, 64, 64, 4] [None, 64, 64, 4]", config.trim());
    }

    @ParameterizedTest
    @ValueSource(strings = {"copy-last", "mean", "sum", "zeros", "random", "timm", "Y=B", "Y=0", "Y=mean", "Y=0.5*R+0.5*G", "Y=random"})
    void everyInitialisationVerifies(String init, @TempDir Path dir) {
        Path out = dir.resolve("o.h5");
        TestSupport.Run run = cli("extend", fixture("keras/tiny_vgg_trained.h5").toString(), "--from", "RGB", "--to", "RGBY", "--init", init,
                "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
    }

    /** Without the map, verify recovers it from the kernels (a fresh random channel has no map to recover). */
    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"copy-last; (R=R, G=G, B=B, c3=B)", "Y=B; (R=R, G=G, B=B, c3=B)",
        "mean; (R=R, G=G, B=B, c3=0.333333*R+0.333333*G+0.333333*B)", "Y=mean; (R=R, G=G, B=B, c3=0.333333*R+0.333333*G+0.333333*B)",
        "sum; (R=R, G=G, B=B, c3=R+G+B)", "zeros; (R=R, G=G, B=B, c3=0)", "Y=0; (R=R, G=G, B=B, c3=0)",
        "timm; (R=0.75*R, G=0.75*G, B=0.75*B, c3=0.75*R)", "Y=0.5*R+0.5*G; (R=R, G=G, B=B, c3=0.5*R+0.5*G)"})
    void verifyRecoversTheMapUsed(String init, String recovered, @TempDir Path dir) {
        Path out = dir.resolve("o.h5");
        assertEquals(0, cli("extend", fixture("keras/tiny_vgg_trained.h5").toString(), "--from", "RGB", "--to", "RGBY",
                "--init", init, "-o", out.toString()).exitCode());
        TestSupport.Run verify = cli("verify", fixture("keras/tiny_vgg_trained.h5").toString(), out.toString());
        assertEquals(0, verify.exitCode(), verify.out() + verify.err());
        assertTrue(verify.out().contains(recovered), verify.out());
    }

    @Test
    void matchesTheAcceptedAnswersOwnKerasProcedure(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("o.h5");
        assertEquals(0, cli("extend", fixture("keras/tiny_vgg_from_seed1.h5").toString(), "--from", "RGB", "--to", "RGBY", "--init", "copy-last",
                "-o", out.toString()).exitCode());
        try (Hdf5File ours = Hdf5File.open(out, false);
             Hdf5File keras = Hdf5File.open(fixture("keras/tiny_vgg_rgby_seed_procedure.h5"), false)) {
            assertArrayEquals(keras.readDoubles(KERNEL), ours.readDoubles(KERNEL));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny_vgg", "tiny_vgg_trained", "hpa_nested_vgg", "tiny_effnet", "channels_first", "conv1d",
        "sequential", "many_layers"})
    void everyKerasFixtureExtendsAndVerifies(String name, @TempDir Path dir) throws Exception {
        Path out = dir.resolve(name + "_rgby.h5");
        TestSupport.Run run = cli("extend", fixture("keras/" + name + ".h5").toString(), "--from", "RGB", "--to", "RGBY", "--init", "Y=B",
                "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        // the reference reader sees the same layers in the config and the same weight groups
        assertEquals(TestSupport.python(LAYERS, fixture("keras/" + name + ".h5").toString()), TestSupport.python(LAYERS, out.toString()));
        TestSupport.assertH5dumpReads(out);
    }

    @Test
    void effnetPreprocessingIsExtendedWithTheUsersStatistics(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("e.h5");
        TestSupport.Run run = cli("extend", fixture("keras/tiny_effnet.h5").toString(), "--to", "RGBY", "--init", "Y=B",
                "--stats", "Y=mean:0.08,std:0.12", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.err());
        try (Hdf5File b = Hdf5File.open(out, false)) {
            double[] mean = b.readDoubles("/model_weights/normalization/normalization/mean");
            double[] variance = b.readDoubles("/model_weights/normalization/normalization/variance");
            assertEquals(0.08, mean[3], 1e-7);
            assertEquals(0.0144, variance[3], 1e-7);
        }
        String scale = TestSupport.python("import h5py, json, sys; c = json.loads(h5py.File(sys.argv[1]).attrs['model_config']);"
                + " print([l['config']['scale'] for l in c['config']['layers'] if l['name'] == 'rescaling_1'][0])", out.toString());
        assertEquals(4, scale.split(",").length, scale);
    }

    /**
     * Each keras.applications model (its small tensors made random): inspect names the caffe-style ones, every
     * initialisation verifies, and verify recovers the map of Y=B from the kernels alone.
     */
    @TestFactory
    Stream<DynamicContainer> kerasApplicationsExtendAndVerify() {
        return Stream.of("VGG19.h5.xz", "VGG19_notop.h5.xz", "ResNet50.h5.xz", "EfficientNetB0.h5.xz", "MobileNetV3Small.h5.xz",
                "DenseNet121.h5.xz").map(name -> {
                    boolean caffe = name.startsWith("VGG") || name.startsWith("ResNet");
                    String from = caffe ? "BGR" : "RGB";
                    Supplier<Path> model = TestSupport.once(() -> {
                        Path file = TestSupport.unxz("keras-apps/" + name, Files.createDirectories(shared.resolve(name)));
                        fillSmallTensorsRandomly(file);
                        return file;
                    });
                    Stream<DynamicTest> inspect = Stream.of(DynamicTest.dynamicTest("inspect", () -> {
                        TestSupport.Run run = cli("inspect", model.get().toString());
                        assertEquals(0, run.exitCode(), run.err());
                        assertEquals(caffe, run.out().contains("--from BGR"), run.out());
                    }));
                    Stream<DynamicTest> inits = Stream.of("Y=B", "copy-last", "mean", "sum", "zeros", "timm", "Y=0.5*R+0.5*G", "random")
                            .map(init -> DynamicTest.dynamicTest("--init " + init, () -> {
                                Path out = shared.resolve(name).resolve("rgby.h5");
                                TestSupport.Run run = cli("extend", model.get().toString(), "--from", from, "--to", "RGBY",
                                        "--init", init, "-o", out.toString(), "--force", "--verify");
                                assertEquals(0, run.exitCode(), run.out() + run.err());
                            }));
                    Stream<DynamicTest> recover = Stream.of(DynamicTest.dynamicTest("verify recovers Y=B, then the copy is removed", () -> {
                        try {
                            Path out = shared.resolve(name).resolve("rgby.h5");
                            assertEquals(0, cli("extend", model.get().toString(), "--from", from, "--to", "RGBY", "--init", "Y=B",
                                    "-o", out.toString(), "--force").exitCode());
                            TestSupport.Run verify = cli("verify", model.get().toString(), out.toString(), "--from", from);
                            assertEquals(0, verify.exitCode(), verify.out() + verify.err());
                            assertTrue(verify.out().contains("c3=B)"), verify.out());
                        } finally {
                            TestSupport.deleteTree(shared.resolve(name));
                        }
                    }));
                    return DynamicContainer.dynamicContainer(name, Stream.of(inspect, inits, recover).flatMap(t -> t));
                });
    }

    /** The keras-apps fixtures are zero-filled; give every tensor under a million values random ones. */
    static void fillSmallTensorsRandomly(Path model) {
        java.util.Random random = new java.util.Random(42);
        try (Hdf5File h5 = Hdf5File.open(model, true)) {
            for (String path : h5.datasets("/model_weights")) {
                io.rechannel.hdf5.DatasetInfo info = h5.dataset(path);
                if (info.elementCount() < 1_000_000) {
                    double[] values = new double[(int) info.elementCount()];
                    for (int i = 0; i < values.length; i++) {
                        values[i] = path.contains("variance") ? 0.5 + random.nextDouble() : random.nextGaussian();
                    }
                    h5.replaceDataset(path, info.shape(), values);
                }
            }
        }
    }

    /** Every initialisation, and reductions to fewer channels, on each Keras fixture (legacy .h5). */
    static Stream<Arguments> fixturesAndInitialisations() {
        List<String[]> inits = new ArrayList<>();
        for (String init : new String[] {"copy-last", "mean", "sum", "zeros", "random", "timm", "Y=B", "Y=0.25*R-G"}) {
            inits.add(new String[] {"RGBY", init});
        }
        inits.addAll(List.of(new String[] {"L", "L=sum"}, new String[] {"L", "L=0.299*R+0.587*G+0.114*B"},
                new String[] {"BGR", "mean"}, new String[] {"GB", "mean"}));
        return Stream.of("tiny_vgg", "hpa_nested_vgg", "tiny_effnet", "channels_first", "conv1d", "sequential")
                .flatMap(name -> inits.stream().map(init -> Arguments.of(name, init[0], init[1])));
    }

    @ParameterizedTest(name = "{0} --to {1} --init {2}")
    @MethodSource("fixturesAndInitialisations")
    void everyInitialisationOnEveryKerasFixture(String name, String to, String init, @TempDir Path dir) {
        Path out = dir.resolve("o.h5");
        // the channels taken as they are: tiny_vgg and hpa_nested_vgg are caffe-style and would stop without --from
        TestSupport.Run run = cli("extend", fixture("keras/" + name + ".h5").toString(), "--from", "RGB", "--to", to,
                "--init", init, "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
    }

    @Test
    void inspectWarnsOfCaffeStyleBackbonesNestedToo() {
        TestSupport.Run nested = cli("inspect", fixture("keras/hpa_nested_vgg.h5").toString());
        assertTrue(nested.out().contains("'vgg19_tiny' looks like a caffe-style"), nested.out());
        TestSupport.Run effnet = cli("inspect", fixture("keras/tiny_effnet.h5").toString());
        assertTrue(!effnet.out().contains("caffe"), effnet.out());
    }

    @Test
    void oldKerasOptimizerStateIsMatchedByPosition(@TempDir Path dir) throws Exception {
        Path model = fixture("keras2/jflashner__HappyOrSadDetector__happyModel.h5");
        Path out = dir.resolve("o.h5");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.err());
        try (Hdf5File b = Hdf5File.open(out, false); Hdf5File a = Hdf5File.open(model, false)) {
            // Adam's first moment and second moment of conv0/kernel: Variable and Variable_10
            for (String slot : new String[] {"Variable:0", "Variable_10:0"}) {
                String path = "/optimizer_weights/training/Adam/" + slot;
                assertArrayEquals(new long[] {5, 5, 4, 32}, b.dataset(path).shape());
                double[] old = a.readDoubles(path);
                double[] updated = b.readDoubles(path);
                for (int pos = 0; pos < 25; pos++) {
                    for (int f = 0; f < 32; f++) {
                        assertEquals(old[(pos * 3 + 2) * 32 + f], updated[(pos * 4 + 2) * 32 + f]);
                        assertEquals(0.0, updated[(pos * 4 + 3) * 32 + f], "new channel starts with no history");
                    }
                }
            }
            assertArrayEquals(new long[] {7, 7, 32, 32}, b.dataset("/optimizer_weights/training/Adam/Variable_4:0").shape());
        }
    }

    /** Keras 1 weights-only files: their kernel layout is unknown, so they are refused. */
    private static final Set<String> KERAS1_WEIGHTS_ONLY = Set.of("ncondo__CarND-Behavioral-Cloning__model.h5",
            "pplonski__keras2cpp__example__my_nn_weights.h5");

    /**
     * The real files others wrote (Keras 1.0.7 to 3.10): each gains a channel, optimizer state included,
     * and verifies; Keras 1 weights-only files are refused in one line because their kernel layout is unknown.
     */
    @TestFactory
    Stream<DynamicNode> realKeras2FilesExtend() {
        return TestSupport.dynamic("the corpus's Keras 1 and 2 files", () -> {
            List<Path> files;
            try (var list = Files.list(fixture("keras2"))) {
                files = list.filter(p -> p.toString().matches(".*\\.(h5|hdf5)$")).sorted().toList();
            }
            assertTrue(files.stream().map(p -> p.getFileName().toString()).toList().containsAll(KERAS1_WEIGHTS_ONLY));
            return files.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
                String name = file.getFileName().toString();
                List<String> model = new ArrayList<>(List.of(file.toString(), "--channel-independent", "lambda_1"));
                if (name.endsWith(".weights.h5")) {
                    model.addAll(List.of("--layer", "layers/conv2d"));
                }
                List<String> inspectArgs = new ArrayList<>(List.of("inspect"));
                inspectArgs.addAll(model);
                inspectArgs.add("--json");
                TestSupport.Run inspect = cli(inspectArgs.toArray(String[]::new));
                if (KERAS1_WEIGHTS_ONLY.contains(name)) {
                    assertEquals(5, inspect.exitCode(), inspect.err());
                    assertTrue(inspect.err().contains("Keras 1 weights-only file"), inspect.err());
                    assertEquals(1, inspect.err().lines().count(), inspect.err());
                    return;
                }
                assertEquals(0, inspect.exitCode(), inspect.err());
                int channels = new com.fasterxml.jackson.databind.ObjectMapper().readTree(inspect.out())
                        .path("inputs").get(0).path("channels").asInt();
                List<String> extend = new ArrayList<>(List.of("extend"));
                extend.addAll(model);
                extend.addAll(List.of("--to", String.valueOf(channels + 1), "-o", shared.resolve(name).toString(), "--verify"));
                TestSupport.Run run = cli(extend.toArray(String[]::new));
                assertEquals(0, run.exitCode(), run.out() + run.err());
            }));
        });
    }
}

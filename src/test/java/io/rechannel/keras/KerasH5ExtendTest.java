package io.rechannel.keras;

import io.rechannel.TestSupport;
import io.rechannel.hdf5.Hdf5File;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** extend + verify on the real Keras files, checked in Java and with h5py. */
class KerasH5ExtendTest {

    private static final String KERNEL = "/model_weights/block1_conv1/block1_conv1/kernel";

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
        // without the map, verify recovers it from the kernels (fresh random channels excepted)
        if (!init.contains("random")) {
            TestSupport.Run verify = cli("verify", fixture("keras/tiny_vgg_trained.h5").toString(), out.toString());
            assertEquals(0, verify.exitCode(), verify.out() + verify.err());
        }
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
        String shapes = TestSupport.python("import h5py, json, sys\n"
                + "f = h5py.File(sys.argv[1]); c = f.attrs['model_config']\n"
                + "print(len(json.loads(c)['config']['layers']) > 0, sum(1 for _ in f['model_weights']))", out.toString());
        assertTrue(shapes.startsWith("True"), shapes);
        assertEquals(0, TestSupport.run(java.util.List.of("h5dump", "-H", out.toString())).exitCode(), "h5dump reads it");
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

    @ParameterizedTest
    @ValueSource(strings = {"VGG19.h5.xz", "VGG19_notop.h5.xz", "ResNet50.h5.xz", "EfficientNetB0.h5.xz",
        "MobileNetV3Small.h5.xz", "DenseNet121.h5.xz"})
    void kerasApplicationsExtendAndVerify(String name, @TempDir Path dir) throws Exception {
        Path model = TestSupport.unxz("keras-apps/" + name, dir);
        fillSmallTensorsRandomly(model);
        boolean caffe = name.startsWith("VGG") || name.startsWith("ResNet");
        String from = caffe ? "BGR" : "RGB";
        TestSupport.Run inspect = cli("inspect", model.toString());
        assertEquals(0, inspect.exitCode(), inspect.err());
        assertEquals(caffe, inspect.out().contains("--from BGR"), inspect.out());
        for (String init : new String[] {"Y=B", "copy-last", "mean", "sum", "zeros", "timm", "Y=0.5*R+0.5*G", "random"}) {
            Path out = dir.resolve("rgby.h5");
            TestSupport.Run run = cli("extend", model.toString(), "--from", from, "--to", "RGBY", "--init", init,
                    "-o", out.toString(), "--force", "--verify");
            assertEquals(0, run.exitCode(), init + ": " + run.out() + run.err());
            if (init.equals("Y=B")) {
                // with random weights the map can be recovered from the kernels alone
                TestSupport.Run verify = cli("verify", model.toString(), out.toString(), "--from", from);
                assertEquals(0, verify.exitCode(), verify.out() + verify.err());
                assertTrue(verify.out().contains("c3=B"), verify.out());
            }
        }
        Files.delete(model);
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

    @ParameterizedTest
    @ValueSource(strings = {"tiny_vgg", "hpa_nested_vgg", "tiny_effnet", "channels_first", "conv1d", "sequential"})
    void everyInitialisationOnEveryKerasFixture(String name, @TempDir Path dir) {
        for (String init : new String[] {"copy-last", "mean", "sum", "zeros", "random", "timm", "Y=B", "Y=0.25*R-G"}) {
            Path out = dir.resolve("o.h5");
            TestSupport.Run run = cli("extend", fixture("keras/" + name + ".h5").toString(), "--from", "RGB", "--to", "RGBY", "--init", init,
                    "-o", out.toString(), "--force", "--verify");
            assertEquals(0, run.exitCode(), name + " " + init + ": " + run.out() + run.err());
        }
        for (String[] reduce : new String[][] {{"L", "L=sum"}, {"L", "L=0.299*R+0.587*G+0.114*B"}, {"BGR", "mean"}, {"GB", "mean"}}) {
            Path out = dir.resolve("r.h5");
            TestSupport.Run run = cli("extend", fixture("keras/" + name + ".h5").toString(), "--from", "RGB", "--to", reduce[0], "--init", reduce[1],
                    "-o", out.toString(), "--force", "--verify");
            assertEquals(0, run.exitCode(), name + " " + String.join(" ", reduce) + ": " + run.out() + run.err());
        }
        TestSupport.Run inspect = cli("inspect", fixture("keras/" + name + ".h5").toString(), "--json");
        assertEquals(0, inspect.exitCode(), inspect.err());
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

    /**
     * The real files others wrote (Keras 1.0.7 to 3.10): each gains a channel, optimizer state included,
     * and verifies; Keras 1 weights-only files are refused because their kernel layout is unknown.
     */
    @Test
    void realKeras2FilesExtend(@TempDir Path dir) throws Exception {
        List<Path> files;
        try (var list = Files.list(fixture("keras2"))) {
            files = list.filter(p -> p.toString().matches(".*\\.(h5|hdf5)$")).sorted().toList();
        }
        int adapted = 0;
        for (Path file : files) {
            String name = file.getFileName().toString();
            List<String> model = new ArrayList<>(List.of(file.toString(), "--channel-independent", "lambda_1"));
            if (name.endsWith(".weights.h5")) {
                model.addAll(List.of("--layer", "layers/conv2d"));
            }
            List<String> inspectArgs = new ArrayList<>(List.of("inspect"));
            inspectArgs.addAll(model);
            inspectArgs.add("--json");
            TestSupport.Run inspect = cli(inspectArgs.toArray(String[]::new));
            if (inspect.exitCode() != 0) {
                assertTrue(inspect.err().contains("Keras 1 weights-only file"), name + ": " + inspect.err());
                assertEquals(1, inspect.err().lines().count());
                continue;
            }
            int channels = new com.fasterxml.jackson.databind.ObjectMapper().readTree(inspect.out())
                    .path("inputs").get(0).path("channels").asInt();
            List<String> extend = new ArrayList<>(List.of("extend"));
            extend.addAll(model);
            if (channels == 3) {
                extend.addAll(List.of("--from", "RGB"));
            }
            extend.addAll(List.of("--to", String.valueOf(channels + 1), "-o", dir.resolve(name).toString(), "--verify"));
            TestSupport.Run run = cli(extend.toArray(String[]::new));
            assertEquals(0, run.exitCode(), name + ": " + run.out() + run.err());
            adapted++;
        }
        assertEquals(files.size() - 2, adapted, "all but the two Keras 1 weights-only files");
    }
}

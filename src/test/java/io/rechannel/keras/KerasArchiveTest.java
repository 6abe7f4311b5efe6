package io.rechannel.keras;

import io.rechannel.TestSupport;
import io.rechannel.hdf5.Hdf5File;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keras 3 native files: .keras archives and .weights.h5. */
class KerasArchiveTest {

    /**
     * Python's zipfile and h5py: same entries in the same order and compression, metadata.json
     * unchanged, no recorded shape still claiming 3 channels where the input's now are 4, and the
     * weights file's datasets: the changed ones listed with old and new shapes.
     */
    private static final String CHECK = String.join("\n",
            "import zipfile, json, h5py, io, sys",
            "za, zb = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2])",
            "same = [(i.filename, i.compress_type) for i in za.infolist()] == [(i.filename, i.compress_type) for i in zb.infolist()]",
            "print('entries', same, 'metadata', za.read('metadata.json') == zb.read('metadata.json'))",
            "cfg = json.loads(zb.read('config.json'))",
            "first = cfg['config']['layers'][0]['config'].get('batch_shape')",
            "print('input', first)",
            "f = h5py.File(io.BytesIO(zb.read('model.weights.h5')), 'r')",
            "g = h5py.File(io.BytesIO(za.read('model.weights.h5')), 'r')",
            "out = []",
            "same = []",
            "def cmp(name, obj):",
            "    if isinstance(obj, h5py.Dataset) and g[name].shape != obj.shape:",
            "        out.append('%s %s->%s' % (name, g[name].shape, obj.shape))",
            "    elif isinstance(obj, h5py.Dataset):",
            "        same.append(bool((g[name][()] == obj[()]).all()))",
            "f.visititems(cmp)",
            "print('changed', sorted(out), 'unchanged values equal', all(same))");

    /** Each archive, its input shape once adapted to RGBY, and the datasets of its weights file that change. */
    static Stream<Arguments> archives() {
        String vgg = "'layers/conv2d/vars/0 (3, 3, 3, 8)->(3, 3, 4, 8)'";
        return Stream.of(
                Arguments.of("tiny_vgg", "[None, 64, 64, 4]", vgg),
                Arguments.of("tiny_vgg_trained", "[None, 64, 64, 4]", vgg + ", 'optimizer/vars/2 (3, 3, 3, 8)->(3, 3, 4, 8)'"),
                Arguments.of("hpa_nested_vgg", "[None, 64, 64, 4]", "'layers/functional/layers/conv2d/vars/0 (3, 3, 3, 8)->(3, 3, 4, 8)', "
                        + "'optimizer/vars/2 (3, 3, 3, 8)->(3, 3, 4, 8)', 'optimizer/vars/3 (3, 3, 3, 8)->(3, 3, 4, 8)'"),
                Arguments.of("tiny_effnet", "[None, 48, 48, 4]", "'layers/conv2d/vars/0 (3, 3, 3, 16)->(3, 3, 4, 16)', "
                        + "'layers/normalization/vars/0 (3,)->(4,)', 'layers/normalization/vars/1 (3,)->(4,)'"),
                Arguments.of("channels_first", "[None, 4, 32, 32]", vgg),
                Arguments.of("conv1d", "[None, 128, 4]", "'layers/conv1d/vars/0 (5, 3, 8)->(5, 4, 8)'"),
                Arguments.of("sequential", "[None, 32, 32, 4]", vgg),
                Arguments.of("many_layers", "[None, 16, 16, 4]", "'layers/conv2d/vars/0 (3, 3, 3, 4)->(3, 3, 4, 4)'"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("archives")
    void everyKerasArchiveExtendsVerifiesAndReopens(String name, String inputShape, String changed, @TempDir Path dir)
            throws Exception {
        Path input = fixture("keras/" + name + ".keras");
        String before = TestSupport.sha256(input);
        Path out = dir.resolve(name + "_rgby.keras");
        TestSupport.Run run = cli("extend", input.toString(), "--from", "RGB", "--to", "RGBY", "--init", "Y=B", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertEquals(before, TestSupport.sha256(input));
        TestSupport.Run verify = cli("verify", input.toString(), out.toString());
        assertEquals(0, verify.exitCode(), verify.out() + verify.err());
        assertTrue(verify.out().contains("c3=B"), verify.out());
        assertEquals(4, JudgedModel.of(out, null, List.of(), 1, 1).channels());
        assertEquals(String.join("\n", "entries True metadata True", "input " + inputShape,
                "changed [" + changed + "] unchanged values equal True"), TestSupport.python(CHECK, input.toString(), out.toString()).trim());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(out.getFileName().toString(), out.getFileName() + ".input.json"),
                    files.map(f -> f.getFileName().toString()).sorted().toList(), "only the output and its input contract");
        }
    }

    /** Archives that cannot be edited in place (compressed entries, an entry after the weights) are rewritten. */
    @Test
    void archivesOfOtherLayoutsAreRewritten(@TempDir Path dir) throws Exception {
        Path odd = dir.resolve("odd.keras");
        TestSupport.python(String.join("\n",
                "import zipfile, sys",
                "src = zipfile.ZipFile(sys.argv[1])",
                "with zipfile.ZipFile(sys.argv[2], 'w') as out:",
                "    for info in src.infolist():",
                "        method = zipfile.ZIP_DEFLATED if info.filename == 'config.json' else zipfile.ZIP_STORED",
                "        out.writestr(info.filename, src.read(info.filename), compress_type=method)",
                "    out.writestr('assets/notes.txt', 'kept as it is')"), fixture("keras/tiny_vgg_trained.keras").toString(), odd.toString());
        Path out = dir.resolve("o.keras");
        TestSupport.Run run = cli("extend", odd.toString(), "--from", "RGB", "--to", "RGBY", "--init", "Y=B", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        String report = TestSupport.python(CHECK, odd.toString(), out.toString());
        assertTrue(report.contains("entries True metadata True"), report);
        assertTrue(report.contains("optimizer/vars/2 (3, 3, 3, 8)->(3, 3, 4, 8)"), report);
        String notes = TestSupport.python("import zipfile, sys; print(zipfile.ZipFile(sys.argv[1]).read('assets/notes.txt').decode())",
                out.toString());
        assertEquals("kept as it is", notes.trim());
    }

    @Test
    void trainedArchiveKeepsOptimizerStateInStep(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("o.keras");
        assertEquals(0, cli("extend", fixture("keras/hpa_nested_vgg.keras").toString(), "--from", "RGB", "--to", "RGBY", "-o", out.toString()).exitCode());
        String report = TestSupport.python(CHECK, fixture("keras/hpa_nested_vgg.keras").toString(), out.toString());
        assertTrue(report.contains("layers/functional/layers/conv2d/vars/0 (3, 3, 3, 8)->(3, 3, 4, 8)"), report);
        assertTrue(report.contains("optimizer/vars/2 (3, 3, 3, 8)->(3, 3, 4, 8)"), report);
        assertTrue(report.contains("optimizer/vars/3 (3, 3, 3, 8)->(3, 3, 4, 8)"), report);
        assertTrue(report.contains("input [None, 64, 64, 4]"), report);
        String build = TestSupport.python(String.join("\n",
                "import zipfile, json, sys",
                "c = json.loads(zipfile.ZipFile(sys.argv[1]).read('config.json'))",
                "inner = [l for l in c['config']['layers'] if l['class_name'] == 'Functional'][0]",
                "conv = [l for l in inner['config']['layers'] if l['name'] == 'block1_conv1'][0]",
                "print(conv['build_config']['input_shape'], inner['config']['layers'][0]['config']['batch_shape'])"), out.toString());
        assertEquals("[None, 64, 64, 4] [None, 64, 64, 4]", build.trim());
        Path dropped = dir.resolve("d.keras");
        assertEquals(0, cli("extend", fixture("keras/hpa_nested_vgg.keras").toString(), "--from", "RGB", "--to", "RGBY", "--drop-optimizer",
                "-o", dropped.toString(), "--verify").exitCode());
        String noOptimizer = TestSupport.python("import zipfile, h5py, io, sys; f = h5py.File(io.BytesIO(zipfile.ZipFile(sys.argv[1])"
                + ".read('model.weights.h5'))); print('optimizer' in f)", dropped.toString());
        assertEquals("False", noOptimizer.trim());
    }

    /**
     * The .keras weights file names groups conv2d, conv2d_1, ... and many of tiny_vgg's convolutions have
     * identical shapes, so shapes cannot place them; the mapping by layer order must give every layer
     * exactly the values the legacy .h5 of the same model stores under the layer's own name.
     */
    @Test
    void layersMapToWeightGroupsAsKerasDoes(@TempDir Path dir) throws Exception {
        Path weights = dir.resolve("w.h5");
        try (KerasArchive archive = KerasArchive.open(fixture("keras/tiny_vgg.keras"))) {
            archive.extract(KerasArchive.WEIGHTS, weights);
            String config = archive.readText(KerasArchive.CONFIG);
            try (Hdf5File v3 = Hdf5File.open(weights, false); Hdf5File legacy = Hdf5File.open(fixture("keras/tiny_vgg.h5"), false)) {
                KerasV3Model model = KerasV3Model.withConfig(v3, config, "3", "tiny_vgg.keras");
                KerasH5Model old = KerasH5Model.read(legacy, "tiny_vgg.h5", null);
                int compared = 0;
                for (KerasLayer layer : model.graph().layers()) {
                    List<KerasWeight> ours = model.store().weightsOf(layer);
                    List<KerasWeight> reference = old.store().weightsOf(old.graph().layer(layer.path()));
                    assertEquals(reference.size(), ours.size(), layer.path());
                    for (int i = 0; i < ours.size(); i++) {
                        assertEquals(reference.get(i).name(), ours.get(i).name());
                        assertArrayEquals(legacy.readDoubles(reference.get(i).path()), v3.readDoubles(ours.get(i).path()), layer.path());
                        compared++;
                    }
                }
                assertEquals(38, compared);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny_vgg", "tiny_effnet", "sequential", "many_layers", "channels_first", "conv1d"})
    void standaloneWeightsNeedTheirConfig(String name, @TempDir Path dir) throws Exception {
        Path weights = fixture("keras/" + name + ".weights.h5");
        TestSupport.Run missing = cli("extend", weights.toString(), "--to", "RGBY", "-o", dir.resolve("x.h5").toString());
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().contains("--config"), missing.err());
        Path out = dir.resolve("o.weights.h5");
        TestSupport.Run run = cli("extend", weights.toString(), "--from", "RGB", "--config", fixture("keras/" + name + ".keras").toString(),
                "--to", "RGBY", "--init", "Y=B", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        TestSupport.assertH5dumpReads(out);
    }

    @Test
    void standaloneWeightsWithTheLayerGroupNamed(@TempDir Path dir) {
        Path out = dir.resolve("o.weights.h5");
        TestSupport.Run run = cli("extend", fixture("keras/tiny_vgg.weights.h5").toString(), "--layer", "layers/conv2d",
                "--to", "RGBY", "--init", "copy-last", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("block1_conv1"), run.out());
    }

    /** The keras-apps archives are zero-filled; a copy with every tensor under a million values random. */
    private static Path randomised(Path archivePath, Path dir) throws Exception {
        Path weights = dir.resolve("random.weights.h5");
        Path copy = dir.resolve("random.keras");
        try (KerasArchive archive = KerasArchive.open(archivePath)) {
            archive.extract(KerasArchive.WEIGHTS, weights);
            try (Hdf5File h5 = Hdf5File.open(weights, true)) {
                java.util.Random random = new java.util.Random(7);
                for (String path : h5.datasets("/layers")) {
                    io.rechannel.hdf5.DatasetInfo info = h5.dataset(path);
                    if (info.elementCount() < 1_000_000) {
                        double[] values = random.doubles(info.elementCount(), 0.5, 1.5).toArray();
                        h5.replaceDataset(path, info.shape(), values);
                    }
                }
            }
            Files.createFile(copy);
            archive.writeCopy(copy, copy, java.util.Map.of(KerasArchive.WEIGHTS, weights));
        }
        Files.delete(weights);
        Files.delete(archivePath);
        return copy;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {"VGG19.keras.xz; BGR; [None, 224, 224, 4]", "VGG19_notop.keras.xz; BGR; [None, None, None, 4]",
        "ResNet50.keras.xz; BGR; [None, 224, 224, 4]", "EfficientNetB0.keras.xz; RGB; [None, 224, 224, 4]",
        "MobileNetV3Small.keras.xz; RGB; [None, None, None, 4]", "DenseNet121.keras.xz; RGB; [None, 224, 224, 4]"})
    void kerasApplicationArchives(String name, String from, String inputShape, @TempDir Path dir) throws Exception {
        Path zeros = TestSupport.unxz("keras-apps/" + name, dir);
        Path model = randomised(zeros, dir);
        Path out = dir.resolve("rgby.keras");
        TestSupport.Run run = cli("extend", model.toString(), "--from", from, "--to", "RGBY", "--init", "Y=B", "-o", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        // with random weights the map is recovered from the kernels alone
        TestSupport.Run verify = cli("verify", model.toString(), out.toString(), "--from", from);
        assertEquals(0, verify.exitCode(), verify.out() + verify.err());
        assertTrue(verify.out().contains("c3=B"), verify.out());
        List<String> report = TestSupport.python(CHECK, model.toString(), out.toString()).lines().toList();
        assertEquals(List.of("entries True metadata True", "input " + inputShape), report.subList(0, 2));
    }
}

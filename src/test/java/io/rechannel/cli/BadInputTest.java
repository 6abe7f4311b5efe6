package io.rechannel.cli;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every bad input gets one clear line, a documented exit code, and leaves nothing behind. */
class BadInputTest {

    private static void assertClean(TestSupport.Run run, int code, String expected, Path dir) throws Exception {
        assertEquals(code, run.exitCode(), run.err());
        assertEquals(1, run.err().lines().count(), "one line: " + run.err());
        assertTrue(run.err().startsWith("rechannel: "), run.err());
        assertTrue(run.err().contains(expected), run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace");
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".part")), "temporary file left");
        }
    }

    private static TestSupport.Run extend(Path input, Path out, String... extra) {
        String[] args = {"extend", input.toString(), "--to", "RGBY", "-o", out.toString()};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        return cli(all);
    }

    @Test
    void missingFile(@TempDir Path dir) throws Exception {
        assertClean(extend(dir.resolve("nope.h5"), dir.resolve("o.h5")), 3, "no such file", dir);
    }

    @Test
    void notHdf5(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("model.h5");
        Files.writeString(text, "hello");
        assertClean(extend(text, dir.resolve("o.h5")), 4, "not an HDF5 file", dir);
        assertFalse(Files.exists(dir.resolve("o.h5")));
    }

    @Test
    void truncatedHdf5(@TempDir Path dir) throws Exception {
        Path cut = dir.resolve("cut.h5");
        byte[] bytes = Files.readAllBytes(fixture("keras/tiny_vgg.h5"));
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 3));
        TestSupport.Run run = extend(cut, dir.resolve("o.h5"));
        assertClean(run, 4, "cut.h5", dir);
        assertFalse(Files.exists(dir.resolve("o.h5")));
    }

    @Test
    void hdf5ThatIsNotKeras(@TempDir Path dir) throws Exception {
        Path plain = dir.resolve("plain.h5");
        TestSupport.python("import h5py, sys; f = h5py.File(sys.argv[1], 'w'); f['x'] = [1, 2, 3]", plain.toString());
        assertClean(extend(plain, dir.resolve("o.h5")), 4, "not a Keras model", dir);
    }

    @Test
    void modelWithoutALayerOnTheInput(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("noconv.h5");
        TestSupport.python(String.join("\n",
                "import h5py, json, sys",
                "f = h5py.File(sys.argv[1], 'w')",
                "cfg = {'class_name': 'Functional', 'config': {'name': 'm', 'layers': [",
                " {'class_name': 'InputLayer', 'name': 'x', 'config': {'name': 'x', 'batch_shape': [None, 8, 8, 3]}, 'inbound_nodes': []},",
                " {'class_name': 'MaxPooling2D', 'name': 'p', 'config': {'name': 'p'}, 'inbound_nodes': [{'args': [{'class_name': '__keras_tensor__', 'config': {'shape': [None, 8, 8, 3], 'keras_history': ['x', 0, 0]}}], 'kwargs': {}}]}],",
                " 'input_layers': [['x', 0, 0]], 'output_layers': [['p', 0, 0]]}}",
                "f.attrs['model_config'] = json.dumps(cfg)",
                "g = f.create_group('model_weights'); g.attrs['layer_names'] = ['x', 'p']"), model.toString());
        assertClean(extend(model, dir.resolve("o.h5")), 5, "no convolution or dense layer reads input 'x'", dir);
    }

    @Test
    void rgbyOnAOneChannelModelWithoutFrom(@TempDir Path dir) throws Exception {
        Path mnist = fixture("keras2/HimalRana2610__mnist-digit-classifier__mnist_cnn.h5");
        assertClean(extend(mnist, dir.resolve("o.h5")), 2, "--from", dir);
    }

    @Test
    void unknownChannelInInit(@TempDir Path dir) throws Exception {
        assertClean(extend(fixture("keras/tiny_vgg.h5"), dir.resolve("o.h5"), "--init", "Y=Q"), 2, "unknown channel 'Q'", dir);
    }

    @Test
    void existingOutputNeedsForce(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("o.h5");
        Files.writeString(out, "keep me");
        assertClean(extend(fixture("keras/tiny_vgg.h5"), out), 3, "exists (--force not given)", dir);
        assertEquals("keep me", Files.readString(out));
        assertEquals(0, extend(fixture("keras/tiny_vgg.h5"), out, "--force", "--from", "RGB").exitCode());
    }

    @Test
    void outputEqualToInput(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("m.h5");
        Files.copy(fixture("keras/tiny_vgg.h5"), copy);
        String before = TestSupport.sha256(copy);
        assertClean(extend(copy, copy, "--force"), 2, "the output is the input", dir);
        assertEquals(before, TestSupport.sha256(copy));
    }

    @Test
    void lambdaBeforeTheFirstConvolutionIsNamedAndCanBeDeclared(@TempDir Path dir) throws Exception {
        Path model = fixture("keras2/davinderc__CarND-Behavioral-Cloning-P3__model.h5");
        assertClean(extend(model, dir.resolve("o.h5")), 6, "--channel-independent lambda_1", dir);
        assertEquals(0, extend(model, dir.resolve("o.h5"), "--channel-independent", "lambda_1", "--drop-optimizer",
                "--verify").exitCode());
    }

    @Test
    void jsonCallersGetJsonErrors(@TempDir Path dir) throws Exception {
        TestSupport.Run run = extend(dir.resolve("nope.h5"), dir.resolve("o.h5"), "--json");
        assertEquals(3, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
        var error = new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.err());
        assertEquals("io", error.path("kind").asText());
        assertEquals(3, error.path("exitCode").asInt());
        assertTrue(error.path("error").asText().contains("no such file"), run.err());
    }

    @Test
    void debugShowsTheStackTrace(@TempDir Path dir) {
        TestSupport.Run run = extend(dir.resolve("nope.h5"), dir.resolve("o.h5"), "--debug");
        assertTrue(run.err().contains("\tat "), run.err());
    }

    @Test
    void inspectReportsInputsConsumersAndPreprocessing() throws Exception {
        TestSupport.Run run = cli("inspect", fixture("keras/tiny_effnet.h5").toString(), "--json");
        assertEquals(0, run.exitCode(), run.err());
        var report = new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.out());
        assertEquals("[{\"name\":\"image\",\"shape\":[-1,48,48,3],\"dataFormat\":\"channels_last\",\"channels\":3}]",
                report.path("inputs").toString());
        assertEquals("stem_conv Conv2D {\"kernel\":[3,3,3,16]}", report.path("channelLayers").get(0).path("name").asText() + " "
                + report.path("channelLayers").get(0).path("type").asText() + " " + report.path("channelLayers").get(0).path("weights"));
        assertEquals(1, report.path("channelLayers").size());
        assertEquals("[normalization, rescaling_1]", report.path("preprocessing").findValuesAsText("name").toString());
        TestSupport.Run help = cli("extend", "--help");
        assertEquals(0, help.exitCode());
        assertTrue(help.out().contains("--init"));
    }
}

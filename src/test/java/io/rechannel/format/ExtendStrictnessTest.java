package io.rechannel.format;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Valid-looking requests that would not do what the user meant stop, or warn. */
class ExtendStrictnessTest {

    private static List<Path> names(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            return files.toList();
        }
    }

    @Test
    void twoRulesForOneChannelStop(@TempDir Path dir) throws Exception {
        TestSupport.Run run = cli("extend", fixture("keras/tiny_effnet.h5").toString(), "--to", "RGBY", "--init", "Y=B",
                "--init", "Y=G", "-o", dir.resolve("o.h5").toString());
        assertEquals(2, run.exitCode(), run.err());
        assertEquals("rechannel: --init Y=B and --init Y=G: two rules for channel 'Y'; give one\n", run.err());
        assertEquals(List.of(), names(dir));
    }

    @ParameterizedTest
    @CsvSource({
        "keras/tiny_effnet.h5, x.onnx, a Keras HDF5 file, *.h5 or *.hdf5",
        "keras/tiny_effnet.keras, x.h5, a Keras archive, *.keras",
        "timm/test_resnet.onnx, x.h5, an ONNX model, *.onnx",
        "timm/test_resnet.safetensors, x.pth, a safetensors file, *.safetensors or *.safetensors.index.json",
        "timm/test_resnet.pth, x.safetensors, a torch.save file, *.pth or *.pt or *.bin or *.ckpt or *.tar"})
    void theOutputIsNamedForTheInputsFormat(String input, String output, String kind, String names, @TempDir Path dir)
            throws Exception {
        Path out = dir.resolve(output);
        TestSupport.Run run = cli("extend", fixture(input).toString(), "--from", "RGB", "--to", "RGBY", "-o", out.toString());
        assertEquals(2, run.exitCode(), run.err());
        assertEquals("rechannel: " + out + ": the output of " + fixture(input) + " is " + kind
                + " too (extend does not convert formats): name it " + names + "\n", run.err());
        assertEquals(List.of(), names(dir));
    }

    @Test
    void channelsDifferingOnlyInCaseWarn(@TempDir Path dir) {
        TestSupport.Run run = cli("extend", fixture("keras/tiny_effnet.h5").toString(), "--to", "rgbY", "-o",
                dir.resolve("o.h5").toString());
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("rechannel: warning: --to rgbY: 'r', 'g', 'b' differ only in case from the model's R, G, B and are"
                + " taken as those channels (channel names ignore case)\n", run.err());
    }

    @Test
    void alphaOnAPhotographicModelWarns(@TempDir Path dir) throws Exception {
        TestSupport.Run run = cli("extend", fixture("keras/tiny_effnet.h5").toString(), "--to", "RGBA", "-o",
                dir.resolve("o.h5").toString(), "--json");
        assertEquals(0, run.exitCode(), run.err());
        String warning = "--to RGBA: 'A' is usually alpha (transparency), which this photographic model never saw;"
                + " if the new channel is another band, give it its own name (e.g. Y for yellow)";
        assertEquals("rechannel: warning: " + warning + "\n", run.err());
        assertEquals(warning, new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.out()).path("warnings").get(0).asText());
        TestSupport.Run plain = cli("extend", fixture("keras/tiny_effnet.h5").toString(), "--to", "RGBY", "-o",
                dir.resolve("y.h5").toString());
        assertEquals("", plain.err());
        assertTrue(Files.exists(dir.resolve("y.h5")));
    }
}

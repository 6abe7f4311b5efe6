package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the adapted model expects at its input, written beside it as OUT.input.json. */
class InputContractTest {

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(value -> texts.add(value.asText()));
        return texts;
    }

    private static List<Double> numbers(JsonNode array) {
        List<Double> numbers = new ArrayList<>();
        array.forEach(value -> numbers.add(value.asDouble()));
        return numbers;
    }

    @Test
    void vgg19CaffeExtendedToRgbyTakesRgbyWithFourMeans(@TempDir Path dir) throws Exception {
        Path model = TestSupport.unxz("keras-apps/VGG19.h5.xz", dir);
        TestSupport.Run inspect = cli("inspect", model.toString());
        assertTrue(inspect.out().contains("(channels_last) takes B,G,R in this order; caffe:"
                + " (x - [103.939, 116.779, 123.68]) / [1.0, 1.0, 1.0] per channel, x in 0-255\n"), inspect.out());
        Path out = dir.resolve("vgg19_rgby.h5");
        TestSupport.Run run = cli("extend", model.toString(), "--from", "BGR", "--to", "RGBY", "--init", "Y=B",
                "-o", out.toString(), "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode written = new ObjectMapper().readTree(Files.readString(dir.resolve("vgg19_rgby.h5.input.json")));
        assertEquals(written, new ObjectMapper().readTree(run.out()).path("contract"), "--json carries the same contract");
        assertEquals(List.of("R", "G", "B", "Y"), texts(written.path("channels")));
        assertEquals("caffe", written.path("convention").asText());
        assertEquals("channels_last", written.path("layout").asText());
        assertEquals("0-255", written.path("units").asText());
        assertEquals(List.of(123.68, 116.779, 103.939, 103.939), numbers(written.path("mean")));
        assertEquals(List.of(1.0, 1.0, 1.0, 1.0), numbers(written.path("std")));
        assertTrue(texts(written.path("notes")).stream().anyMatch(n -> n.contains("do not call a preprocess_input")),
                written.toString());
    }

    @Test
    void efficientNetNormalisesInsideTheModel(@TempDir Path dir) throws Exception {
        Path model = TestSupport.unxz("keras-apps/EfficientNetB0.h5.xz", dir);
        Path out = dir.resolve("e.h5");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "-o", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("input: input '"), run.out());
        JsonNode written = new ObjectMapper().readTree(Files.readString(dir.resolve("e.h5.input.json")));
        assertEquals("in-model", written.path("convention").asText());
        assertEquals(List.of(0.0, 0.0, 0.0, 0.0), numbers(written.path("mean")));
        assertEquals(List.of(1.0, 1.0, 1.0, 1.0), numbers(written.path("std")));
        assertTrue(texts(written.path("inside")).stream().anyMatch(n -> n.contains("(Normalization)")), written.toString());
    }

    @Test
    void theContractIsCommittedWithTheOutputOrNotAtAll(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("o.h5");
        TestSupport.Run failed = cli("extend", TestSupport.fixture("keras/tiny_effnet.h5").toString(), "--to", "RGBY",
                "--init", "Y=Q", "-o", out.toString());
        assertEquals(2, failed.exitCode(), failed.err());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.toList());
        }
    }
}

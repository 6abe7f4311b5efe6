package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Walks every Keras model file in the fixtures, whatever its channel count (the RGBY templates too):
 * inspect it, add one channel, verify, and inspect the result.
 */
class EveryKerasFixtureTest {

    @TempDir
    static Path dir;

    @TestFactory
    Stream<DynamicTest> everyModelFileAddsAChannel() throws Exception {
        Path folder = TestSupport.fixtures().resolve("keras");
        List<Path> files;
        try (Stream<Path> list = Files.list(folder)) {
            files = list.filter(p -> p.toString().endsWith(".h5") || p.toString().endsWith(".keras"))
                    .filter(p -> !p.toString().endsWith(".weights.h5")).sorted().toList();
        }
        return files.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            TestSupport.Run inspect = cli("inspect", file.toString(), "--json");
            assertEquals(0, inspect.exitCode(), inspect.err());
            JsonNode report = new ObjectMapper().readTree(inspect.out());
            int channels = report.path("inputs").get(0).path("channels").asInt();
            String name = file.getFileName().toString();
            Path out = dir.resolve("plus1-" + name);
            // a 3-channel model is taken as it is (caffe-style models would otherwise ask for --from)
            String from = channels == 3 ? "RGB" : String.valueOf(channels);
            TestSupport.Run run = cli("extend", file.toString(), "--from", from, "--to", String.valueOf(channels + 1),
                    "--init", "mean", "-o", out.toString(), "--force", "--verify");
            assertEquals(0, run.exitCode(), run.out() + run.err());
            TestSupport.Run again = cli("inspect", out.toString(), "--json");
            assertEquals(channels + 1, new ObjectMapper().readTree(again.out()).path("inputs").get(0).path("channels").asInt(),
                    again.out());
        }));
    }
}

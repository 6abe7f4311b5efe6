package io.rechannel.transfer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code rechannel transfer} on the command line: the report, its JSON, exit codes, one line per error. */
class TransferCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String keras(String name) {
        return TestSupport.corpus().resolve("keras").resolve(name).toString();
    }

    @Test
    void theHeadTenTemplateWithAReport(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("rgby10.keras");
        Path report = dir.resolve("report.json");
        TestSupport.Run run = cli("transfer", "--from", keras("tiny_vgg_from_seed1.h5"), "--into",
                keras("tiny_vgg_rgby_head10_template.keras"), "--from-channels", "RGB", "--init", "copy-last", "-o",
                out.toString(), "--report",
                report.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("", run.err());
        assertTrue(run.out().contains("adapted  block1_conv1/kernel  [3,3,4,8]    block1_conv1/kernel  [3,3,3,8]"), run.out());
        assertTrue(run.out().contains("38 target tensors: 35 copied, 1 adapted, 0 resized, 2 kept, 0 missing"), run.out());
        assertTrue(run.out().contains("written: " + out), run.out());
        JsonNode json = JSON.readTree(report.toFile());
        assertEquals(out.toString(), json.get("output").asText());
        assertEquals(2, json.get("totals").get("kept").asInt());
        JsonNode head = json.get("tensors").get(36);
        assertEquals("predictions/kernel", head.get("tensor").asText());
        assertEquals("kept", head.get("status").asText());
        assertEquals("[64,10]", head.get("shape").toString());
        assertEquals("[64,28]", head.get("sourceShape").toString());
        assertTrue(Files.isRegularFile(out));
    }

    @Test
    void jsonOnStandardOutput(@TempDir Path dir) throws Exception {
        TestSupport.Run run = cli("transfer", "--from", keras("tiny_vgg_from_seed1.h5"), "--into",
                keras("tiny_vgg_rgby_template.h5"), "--from-channels", "RGB", "-o", dir.resolve("out.h5").toString(), "--json",
                "--match", "name");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode json = JSON.readTree(run.out());
        assertEquals(38, json.get("tensors").size());
        assertEquals("adapted", json.get("tensors").get(0).get("status").asText());
        // the default for the new channel, as extend's: the mean of the old ones
        assertTrue(json.get("channelMap").get(0).asText().startsWith("RGB -> R,G,B,c3"), json.get("channelMap").toString());
    }

    /**
     * A caffe-style Keras model (its first channel blue) is not mapped to new channels until its channels are named:
     * exit 2, offering both readings, nothing written.
     */
    @Test
    void aCaffeStylePretrainedModelNeedsItsChannelsNamed(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.h5");
        String from = keras("tiny_vgg_from_seed1.h5");
        TestSupport.Run run = cli("transfer", "--from", from, "--into", keras("tiny_vgg_rgby_template.h5"), "--init",
                "copy-last", "-o", out.toString());
        assertEquals(2, run.exitCode(), run.err());
        assertEquals("rechannel: " + from + ": 'vgg19_tiny' looks like a caffe-style keras.applications model, whose first"
                + " channel is blue: pass --from-channels BGR (the usual meaning) or --from-channels RGB (to take the channels"
                + " as they are)\n", run.err());
        assertFalse(Files.exists(out));
        TestSupport.Run named = cli("transfer", "--from", from, "--into", keras("tiny_vgg_rgby_template.h5"),
                "--from-channels", "BGR", "--init", "copy-last", "-o", out.toString(), "--json");
        assertEquals(0, named.exitCode(), named.err());
        assertTrue(JSON.readTree(named.out()).get("channelMap").get(0).asText().startsWith("BGR -> B,G,R,c3"), named.out());
    }

    /** Too much of the target left as it was: the report is shown and written, the error is one line, no model written. */
    @Test
    void aRefusedTransferShowsItsReportAndWritesNothing(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("out.h5");
        Path report = dir.resolve("report.json");
        TestSupport.Run run = cli("transfer", "--from", TestSupport.fixture("keras/conv1d.h5").toString(), "--into",
                keras("tiny_vgg_rgby_template.h5"), "-o", out.toString(), "--report", report.toString());
        assertEquals(7, run.exitCode(), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("rechannel: " + keras("tiny_vgg_rgby_template.h5") + ": "), run.err());
        assertTrue(run.out().contains("nothing written"), run.out());
        assertEquals("null", JSON.readTree(report.toFile()).get("output").toString());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(report), files.toList());
        }
    }

    @Test
    void badArgumentsAreUsageErrors(@TempDir Path dir) {
        String out = dir.resolve("out.h5").toString();
        String from = keras("tiny_vgg_from_seed1.h5");
        String into = keras("tiny_vgg_rgby_template.h5");
        for (List<String> args : List.of(
                List.of("transfer", "--from", from, "-o", out),
                List.of("transfer", "--from", from, "--into", into, "-o", out, "--match", "size"),
                List.of("transfer", "--from", from, "--into", into, "-o", out, "--head", "drop"),
                List.of("transfer", "--from", from, "--into", into, "-o", out, "--resize", "bilinear"),
                List.of("transfer", "--from", from, "--into", into, "-o", out, "--resize", "numpy", "--init", "copy-last"),
                List.of("transfer", "--from", from, "--into", into, "-o", out, "--from-channels", "RGBY"),
                List.of("transfer", "--from", from, "--into", into, "-o", out, "--max-kept", "2"))) {
            TestSupport.Run run = cli(args.toArray(String[]::new));
            assertEquals(2, run.exitCode(), args + ": " + run.err());
            assertEquals(1, run.err().lines().count(), run.err());
            assertTrue(run.err().startsWith("rechannel: "), run.err());
            assertFalse(Files.exists(Path.of(out)), args.toString());
        }
    }
}

package io.rechannel.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No output replaces a file of the input or a file without --force; a failed --verify leaves nothing. */
class OutputSafetyTest {

    @TempDir
    Path dir;

    private Path onnxExample() throws IOException {
        for (String name : List.of("small_cnn.onnx", "small_cnn.onnx.data")) {
            Files.copy(Path.of("examples", name), dir.resolve(name));
        }
        return dir.resolve("small_cnn.onnx");
    }

    private List<String> names() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void assertOneLine(TestSupport.Run run, int code, String line) {
        assertEquals(code, run.exitCode(), run.err() + run.out());
        assertEquals("rechannel: " + line + "\n", run.err());
    }

    /** The D1: extend small_cnn.onnx -o small_cnn.onnx.data --force overwrote the model's own data. */
    @TestFactory
    Stream<DynamicTest> noOutputIsAFileOfTheInput() {
        return Stream.of("same path", "hard link", "symbolic link").map(how -> DynamicTest.dynamicTest(how, () -> {
            Path input = onnxExample();
            Path data = dir.resolve("small_cnn.onnx.data");
            String before = TestSupport.sha256(data);
            Path output = switch (how) {
                case "hard link" -> Files.createLink(dir.resolve("alias.data"), data);
                case "symbolic link" -> Files.createSymbolicLink(dir.resolve("alias.data"), data.getFileName());
                default -> data;
            };
            TestSupport.Run run = cli("extend", input.toString(), "--to", "4", "-o", output.toString(), "--force");
            assertOneLine(run, 2, output + ": is " + data + ", a file of the input model " + input
                    + "; rechannel never modifies its input");
            assertEquals(before, TestSupport.sha256(data));
            for (Path file : Files.list(dir).toList()) {
                Files.delete(file);
            }
        }));
    }

    @Test
    void theOutputsDataFileMayNotBeTheInputsEither() throws Exception {
        Path input = onnxExample();
        Path renamed = Files.move(input, dir.resolve("model.onnx"));
        Path data = dir.resolve("small_cnn.onnx.data");
        String before = TestSupport.sha256(data);
        // small_cnn.onnx's data file is small_cnn.onnx.data: the data file of this output
        TestSupport.Run run = cli("extend", renamed.toString(), "--to", "4", "-o", input.toString(), "--force");
        assertOneLine(run, 2, data + ": is " + data + ", a file of the input model " + renamed
                + "; rechannel never modifies its input");
        assertEquals(before, TestSupport.sha256(data));
        assertEquals(List.of("model.onnx", "small_cnn.onnx.data"), names());
    }

    @RepeatedTest(8)
    void ofTwoParallelRunsToOneOutputWithoutForceExactlyOneSucceeds() throws Exception {
        Path input = onnxExample();
        Path output = dir.resolve("out.onnx");
        String[] args = {"extend", input.toString(), "--to", "4", "-o", output.toString()};
        CompletableFuture<TestSupport.Run> first = CompletableFuture.supplyAsync(() -> cli(args));
        CompletableFuture<TestSupport.Run> second = CompletableFuture.supplyAsync(() -> cli(args));
        List<TestSupport.Run> runs = List.of(first.get(), second.get());
        assertEquals(1, runs.stream().filter(run -> run.exitCode() == 0).count(), runs.toString());
        TestSupport.Run loser = runs.stream().filter(run -> run.exitCode() != 0).findFirst().orElseThrow();
        assertEquals(3, loser.exitCode(), loser.err());
        assertTrue(loser.err().startsWith("rechannel: " + output), loser.err());
        assertEquals(1, loser.err().lines().count(), loser.err());
        assertEquals(List.of("out.onnx", "out.onnx.data", "out.onnx.input.json", "small_cnn.onnx", "small_cnn.onnx.data"),
                names());
        assertEquals(0, cli("verify", input.toString(), output.toString(), "--to", "4").exitCode());
    }

    @Test
    void aFailedVerificationWritesNothingAndSaysSoOnStderr() throws IOException {
        Path input = Files.writeString(dir.resolve("model.scripted"), "sibling=out.scripted.data\nverify=fail\n");
        Path output = dir.resolve("out.scripted");
        TestSupport.Run run = cli("extend", input.toString(), "--to", "RGBY", "-o", output.toString(), "--verify");
        assertOneLine(run, 7, output + ": not written: verification found a difference (conv kernel: max |difference|"
                + " 0.500, relative 0.250)");
        assertTrue(run.out().startsWith("NOT verified: " + output + " = " + input), run.out());
        assertFalse(run.out().contains(".part"), run.out());
        assertEquals(List.of("model.scripted"), names());
    }

    @Test
    void aFailedVerificationWithJsonIsOneJsonLine() throws IOException {
        Path input = Files.writeString(dir.resolve("model.scripted"), "verify=fail\n");
        Path output = dir.resolve("out.scripted");
        TestSupport.Run run = cli("extend", input.toString(), "--to", "RGBY", "-o", output.toString(), "--verify", "--json");
        assertEquals(7, run.exitCode());
        assertEquals(1, run.err().lines().count(), run.err());
        JsonNode error = new ObjectMapper().readTree(run.err());
        assertEquals("inexact", error.get("kind").asText());
        assertEquals(7, error.get("exitCode").asInt());
        assertEquals(output.toString(), new ObjectMapper().readTree(run.out()).get("adapted").asText());
        assertEquals(List.of("model.scripted"), names());
    }

    @Test
    void anErrorWhileVerifyingWritesNothingAndNamesTheOutput() throws IOException {
        Path input = Files.writeString(dir.resolve("model.scripted"), "sibling=out.scripted.data\nverify=throw\n");
        Path output = dir.resolve("out.scripted");
        TestSupport.Run run = cli("extend", input.toString(), "--to", "RGBY", "-o", output.toString(), "--verify");
        assertOneLine(run, 4, output + ": cannot be read back");
        assertEquals("", run.out());
        assertEquals(List.of("model.scripted"), names());
    }

    @Test
    void aPassedVerificationNamesTheOutput() throws IOException {
        Path input = onnxExample();
        Path output = dir.resolve("out.onnx");
        TestSupport.Run run = cli("extend", input.toString(), "--to", "4", "-o", output.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("\nverified: " + output + " = " + input + " with"), run.out());
        assertFalse(run.out().contains(".part"), run.out());
        assertEquals(List.of("out.onnx", "out.onnx.data", "out.onnx.input.json", "small_cnn.onnx", "small_cnn.onnx.data"),
                names());
    }
}

package io.rechannel.onnx;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inputs the ONNX fuzz test once found failing, kept as they were: each folder under
 * {@code src/test/resources/regressions/onnx/} holds the mutated model (named as the real model it came
 * from, whose data files are put beside it) and {@code expected}, the exit codes of inspect and extend.
 */
class OnnxFuzzRegressionTest {

    private static final Path REGRESSIONS = Path.of("src/test/resources/regressions/onnx");

    static Stream<String> regressions() throws Exception {
        try (Stream<Path> dirs = Files.list(REGRESSIONS)) {
            List<String> names = dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
            assertTrue(names.size() >= 2, "regression inputs found: " + names);
            return names.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("regressions")
    void endsAsDocumented(String name) throws Exception {
        Path dir = REGRESSIONS.resolve(name);
        Path source;
        try (Stream<Path> files = Files.list(dir)) {
            source = files.filter(p -> p.toString().endsWith(".onnx")).findFirst().orElseThrow();
        }
        OnnxFuzzTest.Seed seed = OnnxFuzzTest.seeds().get(source.getFileName().toString());
        Path root = Files.createTempDirectory("rechannel-onnx-regression");
        try {
            Path folder = Files.createDirectory(root.resolve("model"));
            Path model = Files.copy(source, folder.resolve(source.getFileName()));
            for (Map.Entry<String, byte[]> data : seed.data().entrySet()) {
                Files.write(folder.resolve(data.getKey()), data.getValue());
            }
            List<String> codes = assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> OnnxFuzzTest.check(model, root));
            List<String> expected = Files.readAllLines(dir.resolve("expected")).stream().map(l -> l.split(" ")[1]).toList();
            assertEquals(expected, codes.subList(0, expected.size()), "exit codes of inspect, extend");
        } finally {
            OnnxFuzzTest.deleteTree(root);
        }
    }
}

package io.rechannel.onnx;

import io.rechannel.TestSupport;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzes the ONNX reader with mutations of real small models (byte flips, truncations, insertions,
 * deletions, corrupted length prefixes, external data pointed out of the model's folder): inspect,
 * extend, and verify where extend succeeded, each end with a documented exit code and at most one
 * line of error, no stack trace, within a time limit; the input is never changed, the output folder
 * holds a complete output or nothing, and no byte of a file outside the model's folder reaches it.
 * The number of inputs is {@code -Drechannel.fuzz.tries} (default sized for about a minute).
 */
class OnnxFuzzTest {

    static final int DEFAULT_TRIES = 300;
    private static final Set<Integer> DOCUMENTED = Set.of(0, 2, 3, 4, 5, 6, 7);
    private static final Duration PER_INPUT = Duration.ofSeconds(60);
    private static final byte[] CANARY = "RECHANNEL-CANARY-outside-the-model-folder".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern JAVA_EXCEPTION = Pattern.compile("\\b[a-z]\\w*(\\.\\w+)+\\.[A-Z]\\w*(Exception|Error)\\b");
    private static final Path FAILURES = Path.of("target", "onnx-fuzz-failures");

    /** Sets the tries from the system property, so CI and a long local run use the same test. */
    static final class Tries implements AroundPropertyHook {
        @Override
        public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
            context.attributes().setTries(Integer.getInteger("rechannel.fuzz.tries", DEFAULT_TRIES));
            return property.execute();
        }
    }

    /** A real model: its file name, bytes and the data files beside it. */
    record Seed(String name, byte[] bytes, Map<String, byte[]> data) {
    }

    private static final Map<String, Seed> SEEDS = new LinkedHashMap<>();

    /** The real models mutated: examples/small_cnn.onnx and the fixtures' ONNX models, with their data files. */
    static Map<String, Seed> seeds() throws IOException {
        synchronized (SEEDS) {
            if (SEEDS.isEmpty()) {
                add(Path.of("examples/small_cnn.onnx"));
                Path fixtures = Path.of(System.getProperty("rechannel.fixtures", "../shared/fixtures")).resolve("onnx");
                if (!Files.isDirectory(fixtures)) {
                    if (System.getenv("CI") != null) {
                        fail("fixtures missing: " + fixtures);
                    }
                } else {
                    try (Stream<Path> files = Files.list(fixtures)) {
                        for (Path model : files.filter(p -> p.toString().endsWith(".onnx")).sorted().toList()) {
                            add(model);
                        }
                    }
                }
            }
            return SEEDS;
        }
    }

    private static void add(Path model) throws IOException {
        Map<String, byte[]> data = new LinkedHashMap<>();
        String name = model.getFileName().toString();
        try (Stream<Path> siblings = Files.list(model.getParent())) {
            for (Path p : siblings.filter(p -> p.getFileName().toString().startsWith(name + ".")
                    && p.getFileName().toString().endsWith(".data")).toList()) {
                data.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        SEEDS.put(name, new Seed(name, Files.readAllBytes(model), data));
    }

    @Provide
    Arbitrary<String> seed() throws IOException {
        return Arbitraries.of(List.copyOf(seeds().keySet()));
    }

    @Provide
    Arbitrary<List<OnnxMutation>> mutations() {
        Arbitrary<Integer> anywhere = Arbitraries.integers().greaterOrEqual(0);
        Arbitrary<OnnxMutation> flip = net.jqwik.api.Combinators.combine(anywhere, Arbitraries.integers().between(1, 255))
                .as(OnnxMutation.Flip::new);
        Arbitrary<OnnxMutation> truncate = anywhere.map(OnnxMutation.Truncate::new);
        Arbitrary<OnnxMutation> insert = net.jqwik.api.Combinators.combine(anywhere,
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(16)).as(OnnxMutation.Insert::new);
        Arbitrary<OnnxMutation> delete = net.jqwik.api.Combinators.combine(anywhere, Arbitraries.integers().between(1, 64))
                .as(OnnxMutation.Delete::new);
        Arbitrary<OnnxMutation> length = net.jqwik.api.Combinators.combine(anywhere,
                Arbitraries.oneOf(Arbitraries.longs().between(-4, 4), Arbitraries.of(1L << 31, 1L << 32, -1L, Long.MAX_VALUE)),
                Arbitraries.of(true, false)).as(OnnxMutation.Length::new);
        Arbitrary<OnnxMutation> relocate = net.jqwik.api.Combinators.combine(anywhere,
                Arbitraries.of(OnnxMutation.Relocate.TARGETS)).as(OnnxMutation.Relocate::new);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, flip), net.jqwik.api.Tuple.of(1, truncate), net.jqwik.api.Tuple.of(2, insert),
                net.jqwik.api.Tuple.of(1, delete), net.jqwik.api.Tuple.of(4, length), net.jqwik.api.Tuple.of(1, relocate))
                .list().ofMinSize(1).ofMaxSize(3);
    }

    @Property(tries = DEFAULT_TRIES)
    @AddLifecycleHook(Tries.class)
    void mutatedModelsEndCleanly(@ForAll("seed") String name, @ForAll("mutations") List<OnnxMutation> mutations)
            throws Exception {
        Seed seed = seeds().get(name);
        Path root = Files.createTempDirectory("rechannel-onnx-fuzz");
        try {
            Path canary = Files.write(root.resolve("canary.bin"), canaryBytes());
            Path folder = Files.createDirectory(root.resolve("model"));
            Files.createSymbolicLink(folder.resolve("trap.bin"), canary);
            byte[] bytes = seed.bytes();
            OnnxMutation.Traps traps = new OnnxMutation.Traps(canary, "trap.bin");
            for (OnnxMutation m : mutations) {
                bytes = m.apply(bytes, traps);
            }
            Path model = Files.write(folder.resolve(seed.name()), bytes);
            for (Map.Entry<String, byte[]> data : seed.data().entrySet()) {
                Files.write(folder.resolve(data.getKey()), data.getValue());
            }
            try {
                List<String> codes = assertTimeoutPreemptively(PER_INPUT, () -> check(model, root));
                Statistics.label("exit codes: inspect, extend, verify").collect(codes);
            } catch (AssertionError e) {
                Files.createDirectories(FAILURES);
                Files.write(FAILURES.resolve(TestSupport.sha256(model).substring(0, 16) + "-" + seed.name()), bytes);
                throw e;
            }
        } finally {
            deleteTree(root);
        }
    }

    /**
     * Runs inspect, extend and (after a successful extend) verify on a model in its own folder under
     * {@code root}, asserting what every run must satisfy; returns their exit codes ("-": not run).
     */
    static List<String> check(Path model, Path root) throws Exception {
        Path folder = model.getParent();
        Map<Path, String> before = hashes(folder);
        Path out = Files.createDirectory(root.resolve("out"));
        Path adapted = out.resolve("o.onnx");

        TestSupport.Run inspect = ended(TestSupport.cli("inspect", model.toString()), "inspect");
        TestSupport.Run extend = ended(cli("extend", model.toString(), "--to", "4", "-o", adapted.toString()), "extend");
        String verified = "-";
        List<String> written = names(out);
        if (extend.exitCode() == 0) {
            assertTrue(written.contains("o.onnx"), "extend succeeded: " + written);
            for (String file : written) {
                assertTrue(file.equals("o.onnx") || file.equals("o.onnx.input.json")
                        || file.matches("o\\.onnx(\\.\\d+)?\\.data"), "only the output and its input contract: " + written);
                assertFalse(contains(Files.readAllBytes(out.resolve(file)), CANARY), file + " holds bytes from outside the model");
            }
            verified = String.valueOf(ended(cli("verify", model.toString(), adapted.toString()), "verify").exitCode());
            assertEquals(written, names(out), "verify writes nothing");
        } else {
            assertEquals(List.of(), written, "a failed extend leaves nothing");
        }
        assertEquals(before, hashes(folder), "the model's files are unchanged");
        return List.of(String.valueOf(inspect.exitCode()), String.valueOf(extend.exitCode()), verified);
    }

    /** A documented exit code, at most one line of error, and no trace of a Java exception. */
    private static TestSupport.Run ended(TestSupport.Run run, String command) {
        String all = run.out() + run.err();
        assertTrue(DOCUMENTED.contains(run.exitCode()), command + " exit " + run.exitCode() + ": " + all);
        assertTrue(run.err().lines().count() <= 1, command + ": " + run.err());
        assertFalse(all.contains("internal error") || all.contains("\tat ") || JAVA_EXCEPTION.matcher(all).find(),
                command + ": " + all);
        return run;
    }

    private static byte[] canaryBytes() {
        byte[] bytes = new byte[1 << 16];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = CANARY[i % CANARY.length];
        }
        return bytes;
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static Map<Path, String> hashes(Path dir) throws Exception {
        Map<Path, String> hashes = new LinkedHashMap<>();
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.filter(Files::isRegularFile).sorted().forEach(files::add);
        }
        for (Path f : files) {
            hashes.put(f, TestSupport.sha256(f));
        }
        return hashes;
    }

    static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

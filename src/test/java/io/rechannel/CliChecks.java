package io.rechannel;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line run as the launcher runs it (a JVM of its own with a 96 MB heap) or in this JVM with
 * another block size, and the checks every refusal must pass.
 */
public final class CliChecks {

    /** What bin/rechannel passes to java; the heap limit is the point. */
    public static final List<String> OPTIONS = List.of("-XX:+UseSerialGC", "-Xmx96m", "-XX:TieredStopAtLevel=1");

    private CliChecks() {
    }

    /** Runs the command line in a JVM of its own with the launcher's options. */
    public static TestSupport.Run forked(Path workDir, String... args) throws Exception {
        return forked(workDir, List.of(), args);
    }

    /** The same, with more JVM options (system properties). */
    public static TestSupport.Run forked(Path workDir, List<String> jvmOptions, String... args) throws Exception {
        List<String> options = new ArrayList<>(OPTIONS);
        options.addAll(jvmOptions);
        return java(workDir, options, "io.rechannel.cli.Main", args);
    }

    /**
     * Runs {@code mainClass} of the test class path in a JVM of its own with {@code jvmOptions} (such as
     * {@code -verbose:class}, to see which classes a run loads), its input closed.
     */
    public static TestSupport.Run java(Path workDir, List<String> jvmOptions, String mainClass, String... args)
            throws Exception {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", classPath, mainClass));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).start();
        process.getOutputStream().close();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new TestSupport.Run(process.exitValue(), new String(out.get(), StandardCharsets.UTF_8),
                new String(err.get(), StandardCharsets.UTF_8));
    }

    /** The classes a run of {@code mainClass} loads ({@code -verbose:class} output, with what it printed); it must succeed. */
    public static String classesLoaded(String mainClass, String... args) throws Exception {
        TestSupport.Run run = java(Path.of("").toAbsolutePath(), List.of("-verbose:class"), mainClass, args);
        assertEquals(0, run.exitCode(), run.out() + run.err());
        return run.out() + run.err();
    }

    private static byte[] readAll(java.io.InputStream in) {
        try {
            return in.readAllBytes();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** No scratch file of rechannel's (hidden, ending in .part) is left in {@code dir}. */
    public static boolean noPartFiles(Path dir) throws java.io.IOException {
        try (var files = Files.list(dir)) {
            return files.noneMatch(p -> p.getFileName().toString().endsWith(".part"));
        }
    }

    /** {@code extend --to RGBY --init INIT --verify} in this JVM, mixing in blocks of {@code blockElements} (null: the default). */
    public static void extendInBlocks(Path input, Path out, String init, String blockElements) {
        String previous = System.getProperty("rechannel.blockElements");
        if (blockElements != null) {
            System.setProperty("rechannel.blockElements", blockElements);
        }
        try {
            TestSupport.Run run = TestSupport.cli("extend", input.toString(), "--from", "RGB", "--to", "RGBY", "--init", init, "-o",
                    out.toString(), "--verify");
            assertEquals(0, run.exitCode(), run.out() + run.err());
        } finally {
            if (previous == null) {
                System.clearProperty("rechannel.blockElements");
            } else {
                System.setProperty("rechannel.blockElements", previous);
            }
        }
    }

    /** A refusal: the exit code, one line naming what it must, no output and no scratch file. */
    public static void assertRefused(TestSupport.Run run, int code, Path output, String... expected) throws Exception {
        assertEquals(code, run.exitCode(), run.out() + run.err());
        assertEquals(1, run.err().lines().count(), "one line: " + run.err());
        for (String part : expected) {
            assertTrue(run.err().contains(part), run.err());
        }
        assertFalse(Files.exists(output), "no output");
        assertTrue(noPartFiles(output.getParent()), "no scratch file left");
    }

    /**
     * An adapted model tampered with NaN or infinity never verifies: with the map given ({@code Y=B}) the
     * tap check of {@code layerCheck} fails and says why; recovering the map is an error naming {@code where}.
     */
    public static void assertNeverVerifies(Path original, Path tampered, String layerCheck, String where) {
        TestSupport.Run given = TestSupport.cli("verify", original.toString(), tampered.toString(), "--to", "RGBY",
                "--init", "Y=B");
        assertEquals(7, given.exitCode(), given.out() + given.err());
        assertTrue(given.out().startsWith("NOT verified: "), given.out());
        assertTrue(given.out().contains(layerCheck + ": max |difference|") && given.out().contains("FAILED"), given.out());
        assertTrue(given.out().contains("holds NaN or infinity"), given.out());

        TestSupport.Run recovered = TestSupport.cli("verify", original.toString(), tampered.toString());
        assertEquals(7, recovered.exitCode(), recovered.out() + recovered.err());
        assertFalse(recovered.out().contains("verified: "), recovered.out());
        assertTrue(recovered.err().contains(tampered + ": " + where) && recovered.err().contains("NaN or infinity"),
                recovered.err());
    }
}

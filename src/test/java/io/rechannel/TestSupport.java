package io.rechannel;

import io.rechannel.cli.Main;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.tukaani.xz.XZInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Fixtures, the CLI run in-process, and the reference tools (h5py, h5dump, ONNX, real Keras).
 *
 * <p>Fixtures come from two places. The core set lives in the repository (src/test/resources/fixtures/core,
 * some files xz-compressed) and is always there. The full corpus ({@code ../shared/fixtures}, or
 * {@code -Drechannel.fixtures}) is used when present. Nothing a test needs may be missing silently: under CI
 * ({@code CI=true}) a missing corpus or reference tool fails the test; elsewhere it skips the test with the reason.
 */
public final class TestSupport {

    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Map<String, Boolean> PRESENT = new HashMap<>();
    private static Path core;

    private TestSupport() {
    }

    /** True under CI ({@code CI} set, not "false" or "0"): everything must be there and nothing is skipped. */
    public static boolean ci() {
        String value = System.getenv("CI");
        return value != null && !value.isBlank() && !value.equalsIgnoreCase("false") && !value.equals("0");
    }

    /** A test needs {@code what}: under CI its absence fails the test, elsewhere it skips it with the reason. */
    public static void require(boolean present, String what) {
        if (present) {
            return;
        }
        if (ci()) {
            throw new AssertionError(what + ": under CI=true nothing may be skipped");
        }
        Assumptions.abort(what + ": skipped (under CI=true this fails)");
    }

    /**
     * The core fixture set, ready to use: decompressed (the {@code .xz} files) into one temporary folder the
     * first time it is asked for, made read-only, and deleted when the JVM exits. Mirrors the corpus's layout.
     */
    public static synchronized Path core() {
        if (core == null) {
            core = materialise(coreSource());
        }
        return core;
    }

    private static Path coreSource() {
        URL marker = TestSupport.class.getResource("/fixtures/core/PROVENANCE.md");
        if (marker == null) {
            throw new AssertionError("the core fixture set (src/test/resources/fixtures/core) is not on the test class path");
        }
        try {
            return Path.of(marker.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static Path materialise(Path source) {
        try {
            Path target = Files.createTempDirectory("rechannel-core-fixtures");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(target)));
            List<Path> files;
            try (Stream<Path> walk = Files.walk(source)) {
                files = walk.filter(Files::isRegularFile).toList();
            }
            for (Path file : files) {
                String relative = source.relativize(file).toString();
                Path out = target.resolve(relative.endsWith(".xz") ? relative.substring(0, relative.length() - 3) : relative);
                Files.createDirectories(out.getParent());
                try (InputStream in = relative.endsWith(".xz") ? new XZInputStream(Files.newInputStream(file)) : Files.newInputStream(file)) {
                    Files.copy(in, out);
                }
                out.toFile().setReadOnly();
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The nodes a dynamic-test factory makes; where making them fails or is skipped (a missing corpus or tool),
     * one test named {@code what} that fails or is skipped the same way, so that it is counted, not lost.
     */
    public static Stream<DynamicNode> dynamic(String what, Callable<? extends Stream<? extends DynamicNode>> make) {
        try {
            return make.call().map(DynamicNode.class::cast);
        } catch (Throwable e) {
            return Stream.of(DynamicTest.dynamicTest(what, () -> {
                throw e;
            }));
        }
    }

    /** A value made the first time it is asked for (a decompressed model shared by several dynamic tests). */
    public static <T> Supplier<T> once(Callable<T> make) {
        return new Supplier<>() {
            private T value;

            @Override
            public synchronized T get() {
                if (value == null) {
                    try {
                        value = make.call();
                    } catch (RuntimeException e) {
                        throw e; // a skip (TestAbortedException) stays a skip
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }
                return value;
            }
        };
    }

    public static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a folder already gone, or the JVM exiting: a leftover temporary folder is all that can go wrong
        }
    }

    /** The full fixture corpus; its absence fails under CI and skips the test elsewhere. */
    public static Path corpus() {
        Path path = corpusPath();
        require(Files.isDirectory(path), "the full fixture corpus is not at " + path.toAbsolutePath()
                + " (-Drechannel.fixtures=DIR points elsewhere); this test needs more than the core set in the repository");
        return path;
    }

    public static boolean corpusPresent() {
        return Files.isDirectory(corpusPath());
    }

    private static Path corpusPath() {
        return Path.of(System.getProperty("rechannel.fixtures", "../shared/fixtures"));
    }

    /** A fixture by its path in the corpus layout: from the core set when it is there, else from the full corpus. */
    public static Path fixture(String relative) {
        Path inCore = core().resolve(relative);
        if (Files.exists(inCore)) {
            return inCore;
        }
        Path path = corpus().resolve(relative);
        if (!Files.exists(path)) {
            throw new AssertionError("missing fixture " + relative + " in " + path.getParent().toAbsolutePath());
        }
        return path;
    }

    /** Decompresses an .xz fixture into {@code dir}. */
    public static Path unxz(String relative, Path dir) throws IOException {
        Path source = fixture(relative);
        Path target = dir.resolve(source.getFileName().toString().replaceAll("\\.xz$", ""));
        try (InputStream in = new XZInputStream(Files.newInputStream(source))) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    /** A file of src/test/resources (scripts). */
    public static Path resource(String name) {
        return Path.of("src/test/resources").resolve(name).toAbsolutePath();
    }

    public record Run(int exitCode, String out, String err) {
    }

    public static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    public static String sha256(Path file) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Debian's python3 with the reference readers the scripts import (h5py, numpy, onnx). */
    public static Path python() throws Exception {
        require(present("python", () -> Files.isExecutable(PYTHON)
                        && run(List.of(PYTHON.toString(), "-c", "import h5py, numpy, onnx")).exitCode() == 0),
                "Debian's python3 with python3-h5py, python3-numpy and python3-onnx is not installed");
        return PYTHON;
    }

    /** Runs a Python script with the reference readers; its standard output, or a failure with its error. */
    public static String python(String script, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(python().toString(), "-c", script));
        command.addAll(List.of(args));
        Run run = run(command);
        if (run.exitCode() != 0) {
            throw new AssertionError("python failed: " + run.err() + run.out());
        }
        return run.out();
    }

    /** h5dump (Debian hdf5-tools), the HDF Group's own reader, must read the whole header of {@code file}. */
    public static void assertH5dumpReads(Path file) throws Exception {
        require(present("h5dump", () -> run(List.of("sh", "-c", "command -v h5dump")).exitCode() == 0),
                "h5dump (Debian hdf5-tools) is not installed");
        Run run = run(List.of("h5dump", "-H", file.toString()));
        if (run.exitCode() != 0) {
            throw new AssertionError("h5dump cannot read " + file + ": " + run.err());
        }
    }

    private interface Check {
        boolean test() throws Exception;
    }

    private static synchronized boolean present(String tool, Check check) throws Exception {
        Boolean known = PRESENT.get(tool);
        if (known == null) {
            known = check.test();
            PRESENT.put(tool, known);
        }
        return known;
    }

    public static Run run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).start();
        process.getOutputStream().close();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
        if (!process.waitFor(300, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out after 300 s: " + command);
        }
        return new Run(process.exitValue(), new String(out.get(), StandardCharsets.UTF_8),
                new String(err.get(), StandardCharsets.UTF_8));
    }

    private static byte[] readAll(InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

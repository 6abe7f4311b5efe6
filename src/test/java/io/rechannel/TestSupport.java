package io.rechannel;

import io.rechannel.cli.Main;
import org.tukaani.xz.XZInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Fixtures, the CLI run in-process, and the reference HDF5 tools. */
public final class TestSupport {

    private TestSupport() {
    }

    public static Path fixtures() {
        Path path = Path.of(System.getProperty("rechannel.fixtures", "../shared/fixtures"));
        assumeTrue(Files.isDirectory(path), "fixtures not found at " + path);
        return path;
    }

    public static Path fixture(String relative) {
        Path path = fixtures().resolve(relative);
        assumeTrue(Files.exists(path), "missing fixture " + relative);
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

    /**
     * Runs a Python script with Debian's h5py (the reference HDF5 reader). Skipped where it is missing,
     * except under CI, whose script installs it.
     */
    public static String python(String script, String... args) throws Exception {
        Path python = Path.of("/usr/bin/python3");
        boolean ci = System.getenv("CI") != null;
        if (!ci) {
            assumeTrue(Files.isExecutable(python) && run(List.of(python.toString(), "-c", "import h5py")).exitCode() == 0,
                    "Debian python3-h5py not installed");
        }
        List<String> command = new ArrayList<>(List.of(python.toString(), "-c", script));
        command.addAll(List.of(args));
        Run run = run(command);
        if (run.exitCode() != 0) {
            throw new AssertionError("python failed: " + run.err() + run.out());
        }
        return run.out();
    }

    public static Run run(List<String> command) throws Exception {
        Process process = new ProcessBuilder(command).start();
        byte[] out = process.getInputStream().readAllBytes();
        byte[] err = process.getErrorStream().readAllBytes();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }
}

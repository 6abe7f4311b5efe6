package io.rechannel.keras;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A second JVM on the test class path, for runs that may crash the process: a crash in the native HDF5
 * library would take the test JVM with it. It gets the launcher's heap (96 MiB), its own temporary
 * folder, and writes any crash report there, never into the working folder.
 */
final class ForkedJvm {

    private ForkedJvm() {
    }

    /** Starts {@code mainClass} with {@code args}; stderr goes to {@code stderr}. */
    static Process start(Class<?> mainClass, Path tmp, Path stderr, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-XX:ErrorFile=" + tmp.resolve("hs_err_%p.log"),
                "-Djava.io.tmpdir=" + tmp,
                "-Drechannel.quiet=true",
                "-cp", System.getProperty("java.class.path"),
                mainClass.getName()));
        command.addAll(args);
        return new ProcessBuilder(command).redirectError(stderr.toFile()).start();
    }
}

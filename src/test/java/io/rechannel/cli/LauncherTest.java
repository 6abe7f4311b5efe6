package io.rechannel.cli;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bin/rechannel itself, run in a test checkout: the real script beside a jar whose main class is
 * {@link LauncherHarnessMain} on the test class path. A native crash ends in one line and leaves nothing.
 */
class LauncherTest {

    @TempDir
    static Path checkout;

    @TempDir
    Path user;

    @TempDir
    Path tmp;

    @BeforeAll
    static void makeCheckout() throws IOException {
        String script = Files.readString(Path.of("bin/rechannel"));
        Matcher jar = Pattern.compile("target/(rechannel-[^\"/]+\\.jar)").matcher(script);
        assertTrue(jar.find(), "the launcher names its jar");
        Path launcher = Files.createDirectories(checkout.resolve("bin")).resolve("rechannel");
        Files.writeString(launcher, script);
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, LauncherHarnessMain.class.getName());
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, Arrays.stream(testClassPath().split(File.pathSeparator))
                .map(entry -> Path.of(entry).toUri().toString()).collect(Collectors.joining(" ")));
        try (OutputStream out = Files.newOutputStream(Files.createDirectories(checkout.resolve("target")).resolve(jar.group(1)));
             JarOutputStream ignored = new JarOutputStream(out, manifest)) {
            // the manifest is the whole jar
        }
    }

    private static String testClassPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    private TestSupport.Run launch(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("sh", checkout.resolve("bin/rechannel").toString()));
        command.addAll(List.of(args));
        return launchIn(command);
    }

    private TestSupport.Run launchIn(List<String> command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(user.toFile());
        builder.environment().put("TMPDIR", tmp.toString());
        Process process = builder.start();
        process.getOutputStream().close();
        byte[] out = process.getInputStream().readAllBytes();
        byte[] err = process.getErrorStream().readAllBytes();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "launcher timed out");
        return new TestSupport.Run(process.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aNativeCrashIsOneLineAndLeavesNothing() throws Exception {
        Files.copy(Path.of("examples/tiny_vgg.h5"), user.resolve("model.h5"));
        Path outputs = Files.createDirectory(user.resolve("out"));
        TestSupport.Run run = launch("crash", "model.h5", "out/model_rgby.h5");
        assertEquals(4, run.exitCode(), run.err());
        assertEquals("rechannel: the native library crashed while reading model.h5; the file is probably damaged;"
                + " no output was written\n", run.err());
        assertEquals("", run.out());
        assertEquals(List.of("model.h5", "out"), names(user), "no hs_err_pid*.log or core file in the working folder");
        assertEquals(List.of(), names(outputs), "the staging folder is removed");
        assertEquals(List.of(), names(tmp), "no crash report, no run record");
    }

    @Test
    void withJsonTheCrashIsOneJsonLine() throws Exception {
        Path model = Files.copy(Path.of("examples/tiny_vgg.h5"), user.resolve("odd \"name\\.h5"));
        TestSupport.Run run = launch("crash", model.getFileName().toString(), "model_rgby.h5", "--json");
        assertEquals(4, run.exitCode(), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        var error = new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.err());
        assertEquals("the native library crashed while reading odd \"name\\.h5; the file is probably damaged;"
                + " no output was written", error.get("error").asText());
        assertEquals("malformed_file", error.get("kind").asText());
        assertEquals(4, error.get("exitCode").asInt());
        assertEquals(List.of(model.getFileName().toString()), names(user));
    }

    @Test
    void withDebugTheCrashReportGoesToTheTemporaryFolder() throws Exception {
        Files.copy(Path.of("examples/tiny_vgg.h5"), user.resolve("model.h5"));
        TestSupport.Run run = launch("crash", "model.h5", "model_rgby.h5", "--debug");
        assertEquals(4, run.exitCode(), run.err());
        assertTrue(run.err().endsWith("rechannel: the native library crashed while reading model.h5; the file is probably"
                + " damaged; no output was written\n"), run.err());
        assertTrue(run.out().contains("A fatal error has been detected"), run.out());
        assertEquals(List.of("model.h5"), names(user));
        List<String> reports = names(tmp);
        assertEquals(1, reports.size(), reports.toString());
        assertTrue(reports.get(0).matches("rechannel_hs_err_pid\\d+\\.log"), reports.toString());
    }

    @ParameterizedTest
    @CsvSource({"9, killed: the launcher removes it", "15, stopped: the JVM's shutdown hook removes it"})
    void whatAStoppedRunStagedIsRemoved(int signal, String how) throws Exception {
        Files.copy(Path.of("examples/tiny_vgg.h5"), user.resolve("model.h5"));
        ProcessBuilder builder = new ProcessBuilder("sh", checkout.resolve("bin/rechannel").toString(), "stage", "model.h5",
                "model_rgby.h5").directory(user.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("TMPDIR", tmp.toString());
        Process launcher = builder.start();
        String staged = new BufferedReader(new InputStreamReader(launcher.getInputStream())).readLine();
        assertTrue(staged != null && staged.startsWith("staged .rechannel-"), staged);
        assertTrue(Files.isDirectory(user.resolve(staged.substring("staged ".length()))));
        ProcessHandle jvm = launcher.toHandle().children().findFirst().orElseThrow();
        assertTrue(signal == 9 ? jvm.destroyForcibly() : jvm.destroy());
        assertTrue(launcher.waitFor(60, TimeUnit.SECONDS));
        assertEquals(128 + signal, launcher.exitValue(), how);
        assertEquals(List.of("model.h5"), names(user), how);
        assertEquals(List.of(), names(tmp), how);
    }

    @Test
    void exitCodesPassThroughAndTheRecordIsRemoved() throws Exception {
        TestSupport.Run run = launch("extend", "missing.h5", "--to", "RGBY", "-o", "out.h5");
        assertEquals(3, run.exitCode(), run.err());
        assertEquals("rechannel: missing.h5: no such file\n", run.err());
        assertEquals(List.of(), names(user));
        assertEquals(List.of(), names(tmp));
    }

    @Test
    void aFullDiskNamesTheOutput() throws Exception {
        for (String name : List.of("small_cnn.onnx", "small_cnn.onnx.data")) {
            Files.copy(Path.of("examples", name), user.resolve(name));
        }
        // a file size limit of 2 KB: writing more fails with EFBIG, as a full disk fails with ENOSPC
        TestSupport.Run run = launchIn(List.of("sh", "-c", "ulimit -f 4 && exec sh \"$0\" \"$@\"",
                checkout.resolve("bin/rechannel").toString(), "extend", "small_cnn.onnx", "--to", "4", "-o", "cnn4.onnx"));
        assertEquals(3, run.exitCode(), run.err());
        assertEquals("rechannel: " + user.resolve("cnn4.onnx.data") + ": cannot write: File too large\n", run.err());
        assertEquals(List.of("small_cnn.onnx", "small_cnn.onnx.data"), names(user));
    }
}

package io.rechannel.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The native HDF5 library is loaded by runs on HDF5 formats only; each run in a JVM of its own. */
class NativeLibraryLoadingTest {

    /** The classes the run loaded, one per line, as -verbose:class prints them. */
    private static String classesLoadedBy(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-verbose:class", "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                Main.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), out);
        return out;
    }

    @Test
    void anOnnxRunNeverLoadsIt(@TempDir Path dir) throws Exception {
        String classes = classesLoadedBy("extend", "examples/small_cnn.onnx", "--to", "RGBY", "-o",
                dir.resolve("cnn.onnx").toString());
        assertTrue(classes.contains("io.rechannel.onnx.OnnxFormat"), "the run is observed");
        assertFalse(classes.contains("org.bytedeco"), "JavaCPP or HDF5 classes loaded");
        assertFalse(classes.contains("io.rechannel.hdf5"), "HDF5 classes loaded");
    }

    @Test
    void aKerasH5RunLoadsIt(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("vgg.h5");
        String classes = classesLoadedBy("extend", "examples/tiny_vgg.h5", "--from", "BGR", "--to", "RGBY", "-o", out.toString());
        assertTrue(classes.contains("org.bytedeco.hdf5.global.hdf5"), classes);
        assertTrue(Files.size(out) > 0);
    }
}

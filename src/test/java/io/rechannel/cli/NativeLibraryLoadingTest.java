package io.rechannel.cli;

import io.rechannel.CliChecks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The native HDF5 library is loaded by runs on HDF5 formats only; each run in a JVM of its own. */
class NativeLibraryLoadingTest {

    /** The classes the run loaded, one per line, as -verbose:class prints them. */
    private static String classesLoadedBy(String... args) throws Exception {
        return CliChecks.classesLoaded(Main.class.getName(), args);
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

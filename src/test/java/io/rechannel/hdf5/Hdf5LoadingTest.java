package io.rechannel.hdf5;

import io.rechannel.CliChecks;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native HDF5 library is loaded when a file is opened (or {@link Hdf5File#preload} asks for it), never as a
 * side effect of loading a class: each case runs in a JVM of its own, which lists the classes it loads.
 */
class Hdf5LoadingTest {

    /** Initialises {@link Hdf5File}; with an argument, opens that file too. */
    public static void main(String[] args) throws Exception {
        Class.forName(Hdf5File.class.getName(), true, Hdf5LoadingTest.class.getClassLoader());
        System.out.println("initialised");
        if (args.length > 0) {
            try (Hdf5File file = Hdf5File.open(Path.of(args[0]), false)) {
                System.out.println("opened " + file.isGroup("/"));
            }
        }
    }

    private static String classesLoaded(String... args) throws Exception {
        return CliChecks.classesLoaded(Hdf5LoadingTest.class.getName(), args);
    }

    @Test
    void initialisingTheClassLoadsNothingNative() throws Exception {
        String out = classesLoaded();
        assertTrue(out.contains("initialised"), out);
        assertTrue(out.contains("io.rechannel.hdf5.Hdf5File "), "the class is observed");
        // the verifier may load pointer types the class names; the loader and the library's bindings stay out
        assertFalse(out.contains("org.bytedeco.javacpp.Loader "), "JavaCPP's native loader ran");
        assertFalse(out.contains("org.bytedeco.hdf5.global.hdf5 "), "the HDF5 bindings were loaded");
    }

    @Test
    void openingAFileLoadsTheLibrary() throws Exception {
        String out = classesLoaded(TestSupport.fixture("keras/tiny_vgg.h5").toString());
        assertTrue(out.contains("opened true"), out);
        assertTrue(out.contains("org.bytedeco.hdf5.global.hdf5 "), "the library is loaded when a file is opened");
    }
}

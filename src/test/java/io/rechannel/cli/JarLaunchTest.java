package io.rechannel.cli;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code java -jar target/rechannel-*.jar}, as the README documents it for systems without a launcher: the
 * build makes the jar and its lib/ folder before the tests, and the jar's manifest names the main class and
 * every dependency, natives included (HDF5, ONNX Runtime).
 */
class JarLaunchTest {

    private static Path jar;

    @BeforeAll
    static void findTheJar() throws Exception {
        Matcher name = Pattern.compile("target/(rechannel-[^\"/]+\\.jar)").matcher(Files.readString(Path.of("bin/rechannel")));
        assertTrue(name.find(), "the launcher names its jar");
        jar = Path.of("target", name.group(1)).toAbsolutePath();
        TestSupport.require(Files.isRegularFile(jar), "the jar the build makes before the tests (" + jar + ")");
    }

    private static TestSupport.Run javaJar(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString()));
        command.addAll(List.of(args));
        return TestSupport.run(command);
    }

    @Test
    void theManifestNamesTheMainClassAndAClassPathThatExists() throws Exception {
        try (JarFile file = new JarFile(jar.toFile())) {
            Attributes main = file.getManifest().getMainAttributes();
            assertEquals(Main.class.getName(), main.getValue(Attributes.Name.MAIN_CLASS));
            String[] classPath = main.getValue(Attributes.Name.CLASS_PATH).split(" ");
            assertTrue(classPath.length > 10, String.join(" ", classPath));
            for (String entry : classPath) {
                assertTrue(Files.isRegularFile(jar.resolveSibling(entry)), entry + " beside the jar");
            }
        }
    }

    @Test
    void helpAndVersion() throws Exception {
        TestSupport.Run help = javaJar("--help");
        assertEquals(0, help.exitCode(), help.err());
        assertTrue(help.out().startsWith("Usage: rechannel [-hV] [COMMAND]\n"), help.out());
        assertEquals("", help.err());
        assertEquals("rechannel 0.1.0\n", javaJar("--version").out());
    }

    /** The native libraries load from the manifest's class path: HDF5 for Keras, ONNX Runtime for verify. */
    @Test
    void extendsAndVerifiesEveryKindOfModel(@TempDir Path dir) throws Exception {
        TestSupport.Run keras = javaJar("extend", "examples/tiny_vgg.h5", "--from", "BGR", "--to", "RGBY", "--init", "Y=B",
                "-o", dir.resolve("vgg.h5").toString(), "--verify");
        assertEquals(0, keras.exitCode(), keras.out() + keras.err());
        assertTrue(keras.out().contains("verified: "), keras.out());
        TestSupport.Run onnx = javaJar("extend", "examples/small_cnn.onnx", "--to", "4", "-o", dir.resolve("cnn.onnx").toString(),
                "--verify");
        assertEquals(0, onnx.exitCode(), onnx.out() + onnx.err());
        assertTrue(onnx.out().contains("(whole model, ONNX Runtime) outputs"), onnx.out());
        assertEquals("", onnx.err());
    }
}

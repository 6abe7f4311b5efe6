package io.rechannel;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.RechannelException;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.Inspection;
import io.rechannel.format.TensorChange;
import io.rechannel.format.VerificationFailedException;
import io.rechannel.format.VerifyResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The library as the README shows it: its example is taken from the README, compiled and run as written. */
class LibraryApiTest {

    /** The README's library example: the first Java block after "As a library". */
    private static String readmeExample() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("```java\n", readme.indexOf("As a library")) + "```java\n".length();
        return readme.substring(start, readme.indexOf("```", start));
    }

    /**
     * The example as a class: its imports, then its statements as the body of {@code run(input, output)}, which
     * returns the example's {@code proof}.
     */
    private static String asClass(String example) {
        List<String> lines = example.lines().toList();
        String imports = lines.stream().filter(l -> l.startsWith("import ")).collect(Collectors.joining("\n"));
        String body = lines.stream().filter(l -> !l.startsWith("import ")).collect(Collectors.joining("\n        "));
        return imports + "\nimport java.nio.file.Path;\n\npublic final class ReadmeExample {\n"
                + "    public static Object run(Path input, Path output) throws Exception {\n        " + body
                + "\n        return proof;\n    }\n}\n";
    }

    @Test
    void theReadmeExampleCompilesAndRuns(@TempDir Path dir) throws Exception {
        String example = readmeExample();
        assertTrue(example.contains("Rechannel.extend(input, output, options)"), example);
        Path sources = Files.createDirectories(dir.resolve("src"));
        Path classes = Files.createDirectories(dir.resolve("classes"));
        Path source = Files.writeString(sources.resolve("ReadmeExample.java"), asClass(example));
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int status = compiler.run(null, errors, errors, "-d", classes.toString(), "-classpath",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")), source.toString());
        assertEquals(0, status, "the README's example does not compile:\n" + errors.toString(StandardCharsets.UTF_8)
                + "\n" + asClass(example));

        Path input = Files.copy(TestSupport.fixture("keras/tiny_vgg.h5"), dir.resolve("vgg19.h5"));
        Path output = dir.resolve("vgg19_rgby.h5");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream console = System.out;
        Object proof;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            Method run = loader.loadClass("ReadmeExample").getMethod("run", Path.class, Path.class);
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            proof = run.invoke(null, input, output);
        } finally {
            System.setOut(console);
        }
        assertTrue(((VerifyResult) proof).passed(), proof.toString());
        List<String> lines = printed.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals("/model_weights/block1_conv1/block1_conv1/kernel [3, 3, 3, 8] -> [3, 3, 4, 8]", lines.get(0));
        assertTrue(lines.get(lines.size() - 1).startsWith("true, largest relative difference "), lines.toString());
        assertTrue(Files.size(output) > 0);
    }

    @Test
    void resultsAreTyped(@TempDir Path dir) {
        Path input = TestSupport.fixture("keras/tiny_vgg.h5");
        Path output = dir.resolve("rgby.h5");
        AdaptResult result = Rechannel.extend(input, output, AdaptOptions.to("RGBY").from("BGR").init("Y=B"));
        assertEquals(ChannelLayout.parse("RGBY"), result.map().to());
        assertEquals(List.of("R=R", "G=G", "B=B", "Y=B"), result.rules());
        TensorChange kernel = result.tensorChanges().get(0);
        assertEquals(TensorChange.Kind.MIXED, kernel.kind());
        assertEquals(List.of(3L, 3L, 3L, 8L), kernel.oldShape());
        assertEquals(List.of(3L, 3L, 4L, 8L), kernel.newShape());
        assertEquals(result.changes().get(0), kernel.describe());

        VerifyResult recovered = Rechannel.verify(input, output, AdaptOptions.defaults().from("BGR"));
        assertTrue(recovered.passed(), recovered.toString());
        assertEquals(result.map().matrix().length, recovered.map().newCount());
        assertTrue(recovered.maxRelativeDifference() <= 1e-5);

        Inspection inspection = Rechannel.inspect(output);
        assertEquals(4, inspection.inputs().get(0).channels());
    }

    @Test
    void extendVerifiedCarriesTheProofAndWritesNothingWhenItFails(@TempDir Path dir) throws Exception {
        Path input = TestSupport.fixture("keras/tiny_vgg.h5");
        Path output = dir.resolve("rgby.h5");
        AdaptResult result = Rechannel.extendVerified(input, output, AdaptOptions.to("RGBY").from("BGR").init("Y=B"));
        assertTrue(result.verification().passed(), result.verification().toString());
        assertEquals(output.toString(), result.verification().adapted());
        assertTrue(Files.size(output) > 0);

        // a test format whose verification always finds a difference
        Path scripted = Files.writeString(dir.resolve("model.scripted"), "sibling=out.scripted.data\nverify=fail\n");
        Path refused = dir.resolve("out.scripted");
        VerificationFailedException failed = assertThrows(VerificationFailedException.class,
                () -> Rechannel.extendVerified(scripted, refused, AdaptOptions.to("RGBY")));
        assertEquals(RechannelException.Kind.INEXACT, failed.kind());
        assertTrue(failed.getMessage().startsWith(refused + ": not written: verification found a difference"),
                failed.getMessage());
        assertFalse(failed.report().passed());
        assertFalse(Files.exists(refused));
        assertFalse(Files.exists(dir.resolve("out.scripted.data")));
    }

    @Test
    void aChannelMapIsAppliedAsGiven(@TempDir Path dir) {
        ChannelMap gray = ChannelMap.ofMatrix(ChannelLayout.parse("RGB"), ChannelLayout.parse("L"),
                new double[][] {{0.25, 0.5, 0.25}});
        Path input = Path.of("examples/small_cnn.onnx");
        Path output = dir.resolve("gray.onnx");
        AdaptResult result = Rechannel.extend(input, output, AdaptOptions.of(gray));
        assertEquals(List.of("L=0.25*R+0.5*G+0.25*B"), result.rules());
        VerifyResult proof = Rechannel.verify(input, output, AdaptOptions.of(gray));
        assertTrue(proof.passed(), proof.toString());
    }

    @Test
    void anExistingOutputIsReplacedOnlyWhenTheOptionsSaySo(@TempDir Path dir) throws Exception {
        Path input = TestSupport.fixture("keras/tiny_vgg.h5");
        Path output = Files.writeString(dir.resolve("rgby.h5"), "mine");
        RechannelException refused = assertThrows(RechannelException.class,
                () -> Rechannel.extend(input, output, AdaptOptions.to("RGBY").from("BGR")));
        assertEquals(RechannelException.Kind.IO, refused.kind());
        assertEquals(output + ": exists (option 'overwrite' not given)", refused.getMessage());
        assertEquals("mine", Files.readString(output));
        Rechannel.extend(input, output, AdaptOptions.to("RGBY").from("BGR").overwrite());
        assertFalse(Files.readString(output, StandardCharsets.ISO_8859_1).equals("mine"));
    }
}

package io.rechannel.format;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.RechannelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.rechannel.format.AtomicOutputTest.names;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** extend with a check before the commit: what fails the check never appears. */
class CheckedExtendTest {

    private static final AdaptOptions RGBY = new AdaptOptions(null, ChannelLayout.parse("4"), List.of(), 0, null, Set.of(),
            Map.of(), false, null, null);

    private static Path scripted(Path dir, String script) throws IOException {
        return Files.writeString(dir.resolve("model.scripted"), script);
    }

    @Test
    void theCheckSeesTheFinishedModelWithItsFilesBesideIt(@TempDir Path dir) throws IOException {
        Path input = scripted(dir, "sibling=out.scripted.data\n");
        Path output = dir.resolve("out.scripted");
        ModelFormat format = ModelFormats.forFile(input);
        Path[] checked = new Path[1];
        AdaptResult result = format.extend(input, output, false, RGBY, written -> {
            checked[0] = written;
            assertEquals("out.scripted", written.getFileName().toString());
            assertTrue(Files.isRegularFile(written.resolveSibling("out.scripted.data")));
            assertFalse(Files.exists(output), "not committed before the check");
            assertTrue(format.verify(input, written, RGBY).passed());
        });
        assertEquals(output.toString(), result.output());
        assertFalse(Files.exists(checked[0]));
        assertEquals(List.of("model.scripted", "out.scripted", "out.scripted.data"), names(dir));
        assertEquals("data of out.scripted", Files.readString(dir.resolve("out.scripted.data")));
    }

    @Test
    void whenTheCheckThrowsNothingAppears(@TempDir Path dir) throws IOException {
        Path input = scripted(dir, "sibling=out.scripted.data\nverify=throw\n");
        Path output = dir.resolve("out.scripted");
        ModelFormat format = ModelFormats.forFile(input);
        RechannelException e = assertThrows(RechannelException.class,
                () -> format.extend(input, output, false, RGBY, written -> format.verify(input, written, RGBY)));
        assertEquals(RechannelException.Kind.MALFORMED_FILE, e.kind());
        assertEquals(output + ": cannot be read back", e.getMessage(), "names the output, not its scratch copy");
        assertEquals(List.of("model.scripted"), names(dir));
    }

    @Test
    void anOutputCreatedDuringTheRunIsNotReplaced(@TempDir Path dir) throws IOException {
        Path input = scripted(dir, "sibling=out.scripted.data\n");
        Path output = dir.resolve("out.scripted");
        RechannelException e = assertThrows(RechannelException.class, () -> ModelFormats.forFile(input).extend(input, output,
                false, RGBY, written -> write(output, "theirs")));
        assertEquals(RechannelException.Kind.IO, e.kind());
        assertEquals(output + ": appeared while rechannel was writing it; not replaced (option 'overwrite' not given)",
                e.getMessage());
        assertEquals("theirs", Files.readString(output));
        assertEquals(List.of("model.scripted", "out.scripted"), names(dir), "the data file placed first is taken back");
    }

    @Test
    void noFileBesideTheOutputMayBeAFileOfTheInput(@TempDir Path dir) throws IOException {
        Path data = Files.writeString(dir.resolve("out.scripted.data"), "the model's own data");
        Path input = scripted(dir, "part=out.scripted.data\nsibling=out.scripted.data\n");
        RechannelException e = assertThrows(RechannelException.class, () -> ModelFormats.forFile(input).extend(input,
                dir.resolve("out.scripted"), true, RGBY, OutputCheck.NONE));
        assertEquals(RechannelException.Kind.USAGE, e.kind());
        assertEquals(dir.resolve("out.scripted.data") + ": is " + data + ", a file of the input model " + input
                + "; rechannel never modifies its input", e.getMessage());
        assertEquals("the model's own data", Files.readString(data));
        assertEquals(List.of("model.scripted", "out.scripted.data"), names(dir));
    }

    @Test
    void onnxExternalDataIsVerifiedBesideTheModelBeforeBothAreCommitted(@TempDir Path dir) throws IOException {
        for (String name : List.of("small_cnn.onnx", "small_cnn.onnx.data")) {
            Files.copy(Path.of("examples", name), dir.resolve(name));
        }
        Path input = dir.resolve("small_cnn.onnx");
        Path output = dir.resolve("cnn4.onnx");
        ModelFormat format = ModelFormats.forFile(input);
        assertEquals(List.of(input, dir.resolve("small_cnn.onnx.data")), format.parts(input));
        VerifyResult[] proof = new VerifyResult[1];
        format.extend(input, output, false, RGBY, written -> proof[0] = format.verify(input, written, RGBY));
        assertTrue(proof[0].passed(), proof[0].toString());
        assertTrue(format.verify(input, output, RGBY).passed());
        assertEquals(List.of("cnn4.onnx", "cnn4.onnx.data", "cnn4.onnx.input.json", "small_cnn.onnx", "small_cnn.onnx.data"),
                names(dir));
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}

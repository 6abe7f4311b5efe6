package io.rechannel.torch;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input ends in one line naming the file and the fault, with the documented exit code, and nothing written. */
class BadTorchInputTest {

    @TempDir
    static Path bad;

    @BeforeAll
    static void makeBadFiles() throws Exception {
        assertEquals(List.of("", ""), TorchRef.batch(List.of(List.of("bad", bad), List.of("sharded", bad))));
        Files.delete(bad.resolve("model-00002-of-00003.safetensors"));
        byte[] good = Files.readAllBytes(bad.resolve("good.safetensors"));
        Files.write(bad.resolve("truncated.safetensors"), java.util.Arrays.copyOf(good, good.length - 10));
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(bad.resolve("huge.safetensors"), huge);
        Files.write(bad.resolve("notjson.safetensors"), new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', 'x', 'x', ' ', ' ', ' ', ' ', ' '});
        Path damaged = bad.resolve("damaged.pth");
        Files.copy(bad.resolve("good.pth"), damaged);
        TorchZip zip = TorchZip.open(damaged);
        long at = zip.record("data/0").dataOffset();
        try (FileChannel channel = FileChannel.open(damaged, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {42, 42, 42, 42}), at);
        }
    }

    @ParameterizedTest(name = "{0}: exit {1}")
    @CsvSource(delimiter = '|', value = {
        "notzip.pth|4|not a torch.save file (not a zip archive)",
        "legacy.pth|5|the legacy torch.save format (PyTorch before 1.6",
        "global.pth|5|pickle global 'posix.system' at byte 24 is not one that torch.load(weights_only=True) allows",
        "opcode.pth|5|pickle opcode 0x64 (DICT) at byte 1 is not one that torch.load(weights_only=True) accepts",
        "damaged.pth|4|good/data/0 is damaged (CRC or size differs from the zip directory)",
        "lies.safetensors|4|tensor 'conv1.weight' is F32 [8,3,7,7] (4704 bytes) but its data_offsets span 4708 bytes",
        "overlap.safetensors|4|(it overlaps the tensor before it)",
        "truncated.safetensors|4|the tensors cover",
        "huge.safetensors|4|header length 1099511627776 is not between 2 and 100000000 bytes",
        "notjson.safetensors|4|header is not valid JSON",
        "model.safetensors.index.json|3|shard model-00002-of-00003.safetensors (holding"})
    void refusedInOneLine(String file, int exitCode, String reason, @TempDir Path dir) throws Exception {
        Path target = dir.resolve("out-" + file);
        TestSupport.Run run = cli("extend", bad.resolve(file).toString(), "--to", "RGBY", "-o", target.toString());
        assertEquals(exitCode, run.exitCode(), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("rechannel: " + bad.resolve(file)), run.err());
        assertTrue(run.err().contains(reason), run.err());
        assertEquals(List.of(), files(dir));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--tensor|nope|2|--tensor nope: ",
        "--tensor|bn1.weight|2|--tensor bn1.weight: F32 [8] is not a floating-point Linear or convolution weight",
        "--tensor|bn1.num_batches_tracked|2|is not a floating-point Linear or convolution weight"})
    void badTensorNames(String option, String name, int exitCode, String reason, @TempDir Path dir) throws Exception {
        TestSupport.Run run = cli("extend", bad.resolve("good.pth").toString(), "--to", "RGBY", option, name, "-o",
                dir.resolve("out.pth").toString());
        assertEquals(exitCode, run.exitCode(), run.err());
        assertTrue(run.err().contains(reason), run.err());
        assertEquals(List.of(), files(dir));
    }

    static List<Path> files(Path dir) throws IOException {
        try (var list = Files.list(dir)) {
            return list.toList();
        }
    }
}

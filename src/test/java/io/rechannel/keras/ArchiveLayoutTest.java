package io.rechannel.keras;

import io.rechannel.TestSupport;
import io.rechannel.hdf5.Hdf5File;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;

import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Where a .keras archive's weights are edited (in place or by rewriting) and what the copies leave on disk. */
class ArchiveLayoutTest {

    /**
     * Weights between 2 and 4 GiB are edited in place (32-bit zip sizes, read unsigned); only beyond that
     * is the archive rewritten. The archives are sparse files: their weights are holes.
     */
    @ParameterizedTest
    @CsvSource({"1000000, true", "2361034184, true", "4294900000, false"})
    void weightsUpTo4GiBAreEditedInPlace(long weightsSize, boolean inPlace, @TempDir Path dir) throws IOException {
        Path archive = sparseArchive(dir.resolve("big.keras"), weightsSize);
        try (KerasArchive keras = KerasArchive.open(archive)) {
            assertEquals(weightsSize, keras.entries().get(2).getSize());
            InPlaceArchive plan = InPlaceArchive.plan(keras);
            if (inPlace) {
                assertNotNull(plan);
                assertEquals(8192, plan.weightsOffset());
            } else {
                assertNull(plan);
            }
        }
    }

    /**
     * A config that outgrows the room kept for it in front of the weights (3000 channels' baked means and
     * variances): the adaptation computed for editing in place is written by rewriting the archive instead.
     */
    @Test
    void aConfigOutgrowingItsRoomIsWrittenByRewriting(@TempDir Path dir) throws IOException {
        Path input = fixture("keras/tiny_vgg.keras");
        Path out = dir.resolve("wide.keras");
        TestSupport.Run run = TestSupport.cli("extend", input.toString(), "--from", "RGB", "--to", "3000", "--init", "timm",
                "--bake-preprocessing", "-o", out.toString(), "--verify");
        assertEquals(0, run.exitCode(), run.err());
        Path config = dir.resolve("config.json");
        Path weights = dir.resolve("weights.h5");
        try (KerasArchive original = KerasArchive.open(input); KerasArchive adapted = KerasArchive.open(out)) {
            InPlaceArchive plan = InPlaceArchive.plan(original);
            assertNotNull(plan, "the input is laid out for editing in place");
            adapted.extract(KerasArchive.CONFIG, config);
            adapted.extract(KerasArchive.WEIGHTS, weights);
        }
        byte[] written = Files.readAllBytes(config);
        try (KerasArchive original = KerasArchive.open(input)) {
            assertFalse(InPlaceArchive.plan(original).fits(written));
        }
        assertNotEquals(' ', written[written.length - 1], "a rewritten config is not padded to the weights' offset");
        try (Hdf5File h5 = Hdf5File.open(weights, false)) {
            assertArrayEquals(new long[] {3, 3, 3000, 8}, h5.dataset("/layers/conv2d/vars/0").shape());
        }
    }

    /** A copy into a file that holds more bytes ends where the copy ends. */
    @Test
    void copiesIntoLongerFilesLeaveNoTail(@TempDir Path dir) throws IOException {
        Path input = fixture("keras/tiny_vgg.keras");
        Path fresh = Files.createFile(dir.resolve("fresh.keras"));
        Path used = filledWithJunk(dir.resolve("used.keras"), Files.size(input) * 3);
        Path weights = dir.resolve("w.h5");
        Path usedWeights = filledWithJunk(dir.resolve("used.h5"), Files.size(input) * 3);
        try (KerasArchive archive = KerasArchive.open(input)) {
            archive.writeCopy(fresh, fresh, Map.of());
            archive.writeCopy(used, used, Map.of());
            archive.extract(KerasArchive.WEIGHTS, weights);
            archive.extract(KerasArchive.WEIGHTS, usedWeights);
            assertEquals(archive.entries().get(archive.entries().size() - 1).getSize(), Files.size(weights));
        }
        assertArrayEquals(Files.readAllBytes(fresh), Files.readAllBytes(used));
        assertArrayEquals(Files.readAllBytes(weights), Files.readAllBytes(usedWeights));
    }

    private static Path filledWithJunk(Path file, long size) throws IOException {
        byte[] junk = new byte[(int) size];
        Arrays.fill(junk, (byte) 0x5a);
        return Files.write(file, junk);
    }

    /** metadata.json, config.json, then model.weights.h5 of {@code weightsSize} unwritten bytes, all stored. */
    private static Path sparseArchive(Path file, long weightsSize) throws IOException {
        String[] names = {"metadata.json", "config.json", KerasArchive.WEIGHTS};
        byte[][] contents = {"{}".getBytes(StandardCharsets.UTF_8), "{\"config\": {}}".getBytes(StandardCharsets.UTF_8), null};
        long[] offsets = new long[names.length];
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SPARSE)) {
            for (int i = 0; i < names.length; i++) {
                offsets[i] = out.position();
                long size = contents[i] == null ? weightsSize : contents[i].length;
                out.write(header(0x04034b50, names[i], size, -1));
                if (contents[i] != null) {
                    out.write(ByteBuffer.wrap(contents[i]));
                } else {
                    out.position(out.position() + size);
                }
            }
            long directory = out.position();
            for (int i = 0; i < names.length; i++) {
                out.write(header(0x02014b50, names[i], contents[i] == null ? weightsSize : contents[i].length, offsets[i]));
            }
            ByteBuffer end = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN).putInt(0x06054b50).putShort((short) 0)
                    .putShort((short) 0).putShort((short) names.length).putShort((short) names.length)
                    .putInt((int) (out.position() - directory)).putInt((int) directory).putShort((short) 0);
            out.write(end.flip());
        }
        return file;
    }

    /** A local header (offset -1) or a central directory record of a stored entry (CRC left 0). */
    private static ByteBuffer header(int signature, String name, long size, long offset) {
        byte[] raw = name.getBytes(StandardCharsets.UTF_8);
        boolean central = offset >= 0;
        ByteBuffer b = ByteBuffer.allocate((central ? 46 : 30) + raw.length).order(ByteOrder.LITTLE_ENDIAN).putInt(signature);
        if (central) {
            b.putShort((short) 20);
        }
        b.putShort((short) 20).putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0x21)
                .putInt(0).putInt((int) size).putInt((int) size).putShort((short) raw.length).putShort((short) 0);
        if (central) {
            b.putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0).putInt((int) offset);
        }
        return b.put(raw).flip();
    }
}

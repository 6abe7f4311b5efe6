package io.rechannel.keras;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static io.rechannel.keras.Refusals.assertHolds;
import static io.rechannel.keras.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crafted and damaged {@code .keras} archives (issue 7: D3, D4, C3, encryption, duplicate entries, damaged
 * archives): every entry read is checked, nothing damaged is laundered into a valid-looking output, a
 * replaced entry is never mislabelled, and every message names the user's archive and the entry.
 */
class KerasArchiveHardeningTest {

    /**
     * conv1d.keras rewritten by Python's zipfile into {@code name}: entries in order, each with the
     * compression {@code methods} gives it (default stored), its content changed by {@code content}.
     */
    private static Path rewrite(Path dir, String name, String methods, String content) throws Exception {
        Path out = dir.resolve(name);
        TestSupport.python(String.join("\n",
                "import zipfile, sys",
                "src = zipfile.ZipFile(sys.argv[1])",
                "methods = {" + methods + "}",
                "def content(n, data):",
                "    " + content,
                "with zipfile.ZipFile(sys.argv[2], 'w') as out:",
                "    for i in src.infolist():",
                "        out.writestr(i.filename, content(i.filename, src.read(i.filename)),"
                        + " compress_type=methods.get(i.filename, zipfile.ZIP_STORED))"),
                fixture("keras/conv1d.keras").toString(), out.toString());
        return out;
    }

    private static TestSupport.Run extend(Path model, Path out) {
        return cli("extend", model.toString(), "--to", "4", "-o", out.toString(), "--verify");
    }

    /** Python's zipfile on the output: compression per entry, and every entry's CRC-32 checked. */
    private static String zipReport(Path archive) throws Exception {
        return TestSupport.python(String.join("\n",
                "import zipfile, sys",
                "z = zipfile.ZipFile(sys.argv[1])",
                "print([(i.filename, i.compress_type) for i in z.infolist()], z.testzip())"), archive.toString()).trim();
    }

    /** A bzip2 weights entry is read, and written back deflated, as the result says (never raw bytes labelled bzip2). */
    @ParameterizedTest(name = "{0} compressed with bzip2")
    @ValueSource(strings = {"model.weights.h5", "config.json"})
    void entryRechannelCannotWriteAsItWasIsDeflated(String entry, @TempDir Path dir) throws Exception {
        Path model = rewrite(dir, "bz.keras", "'" + entry + "': zipfile.ZIP_BZIP2", "return data");
        Path out = dir.resolve("o.keras");
        TestSupport.Run run = extend(model, out);
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().contains("note: " + entry + " was compressed with BZIP2 (method 12); rechannel wrote it deflated"),
                run.out());
        String expected = "[('metadata.json', 0), ('config.json', " + (entry.equals("config.json") ? 8 : 0)
                + "), ('model.weights.h5', " + (entry.equals("config.json") ? 0 : 8) + ")] None";
        assertEquals(expected, zipReport(out));
    }

    /** Entries copied unchanged keep their bytes and compression. */
    @Test
    void unchangedEntriesKeepTheirCompression(@TempDir Path dir) throws Exception {
        Path model = rewrite(dir, "bz.keras", "'metadata.json': zipfile.ZIP_BZIP2, 'model.weights.h5': zipfile.ZIP_DEFLATED",
                "return data");
        Path out = dir.resolve("o.keras");
        assertEquals(0, extend(model, out).exitCode());
        assertEquals("[('metadata.json', 12), ('config.json', 0), ('model.weights.h5', 8)] None", zipReport(out));
    }

    /**
     * A weights entry that fails its CRC-32, stored (edited in place) or deflated (rewritten) alike: a
     * stored one with a changed byte, a deflated one with a changed recorded CRC.
     */
    @ParameterizedTest(name = "weights {0}")
    @ValueSource(strings = {"stored", "deflated"})
    void damagedEntryFailsItsCrc(String method, @TempDir Path dir) throws Exception {
        Path model = rewrite(dir, "m.keras", method.equals("stored") ? "" : "'model.weights.h5': zipfile.ZIP_DEFLATED",
                "return data");
        byte[] bytes = Files.readAllBytes(model);
        int local = localHeader(bytes, KerasArchive.WEIGHTS);
        if (method.equals("stored")) {
            int data = local + 30 + KerasArchive.WEIGHTS.length() + (bytes[local + 28] & 0xFF | (bytes[local + 29] & 0xFF) << 8);
            bytes[data + 3000] ^= 0x55; // inside the HDF5 file, past its superblock
        } else {
            bytes[local + 14] ^= 1;
            bytes[centralHeader(bytes, KerasArchive.WEIGHTS) + 16] ^= 1;
        }
        Files.write(model, bytes);
        for (String command : new String[] {"inspect", "extend"}) {
            TestSupport.Run run = command.equals("inspect") ? cli("inspect", model.toString()) : extend(model, dir.resolve("o.keras"));
            assertRefused(run, 4, "m.keras: model.weights.h5: fails its CRC-32 check");
        }
        assertHolds(dir, "m.keras");
    }

    /** Where the local header of an entry starts. */
    private static int localHeader(byte[] bytes, String entry) {
        return ZipMutations.signatures(bytes, 0x04034b50).stream()
                .filter(at -> new String(bytes, at + 30, entry.length()).equals(entry)).findFirst().orElseThrow();
    }

    /** Where the directory's header of an entry starts. */
    private static int centralHeader(byte[] bytes, String entry) {
        return ZipMutations.signatures(bytes, 0x02014b50).stream()
                .filter(at -> new String(bytes, at + 46, entry.length()).equals(entry)).findFirst().orElseThrow();
    }

    @Test
    void encryptedEntryIsRefusedByName(@TempDir Path dir) throws Exception {
        Path model = rewrite(dir, "enc.keras", "", "return data");
        byte[] bytes = Files.readAllBytes(model);
        bytes[localHeader(bytes, KerasArchive.CONFIG) + 6] |= 1;
        bytes[centralHeader(bytes, KerasArchive.CONFIG) + 8] |= 1;
        Files.write(model, bytes);
        assertRefused(extend(model, dir.resolve("o.keras")), 5, "enc.keras: entry config.json is encrypted");
        assertHolds(dir, "enc.keras");
    }

    @Test
    void twoConfigsAreDamage(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("dup.keras");
        TestSupport.python(String.join("\n",
                "import zipfile, sys, warnings",
                "warnings.simplefilter('ignore')",
                "src = zipfile.ZipFile(sys.argv[1])",
                "with zipfile.ZipFile(sys.argv[2], 'w') as out:",
                "    for i in src.infolist(): out.writestr(i.filename, src.read(i.filename))",
                "    out.writestr('config.json', src.read('config.json'))"), fixture("keras/conv1d.keras").toString(),
                model.toString());
        assertRefused(extend(model, dir.resolve("o.keras")), 4, "dup.keras: the archive has two entries named config.json");
    }

    /** A config.json inflating to 300 MB from 300 KB: refused at once, with bounded memory, leaving nothing. */
    @Test
    void zipBombConfigIsRefusedQuickly(@TempDir Path dir) throws Exception {
        Path model = rewrite(dir, "bomb.keras", "'config.json': zipfile.ZIP_DEFLATED",
                "return b'{' + b' ' * 300000000 + b'}' if n == 'config.json' else data");
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            assertRefused(extend(model, dir.resolve("o.keras")), 5,
                    "bomb.keras: config.json: inflates to 300000002 bytes, over rechannel's limit of 64 MiB");
            assertRefused(cli("inspect", model.toString()), 5, "bomb.keras: config.json: inflates to");
        });
        assertHolds(dir, "bomb.keras");
    }

    /** An entry whose directory understates its size: stopped as soon as it inflates past it. */
    @Test
    void entryLongerThanRecordedIsDamage(@TempDir Path dir) throws Exception {
        Path model = rewrite(dir, "long.keras", "'config.json': zipfile.ZIP_DEFLATED", "return data");
        byte[] bytes = Files.readAllBytes(model);
        int local = localHeader(bytes, KerasArchive.CONFIG);
        int central = centralHeader(bytes, KerasArchive.CONFIG);
        bytes[local + 22] = bytes[central + 24] = 10;
        bytes[local + 23] = bytes[central + 25] = 0;
        Files.write(model, bytes);
        assertRefused(extend(model, dir.resolve("o.keras")), 4,
                "long.keras: config.json: holds more than the 10 bytes the archive records");
        assertHolds(dir, "long.keras");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"empty", "random", "truncated"})
    void damagedArchiveIsNamed(String kind, @TempDir Path dir) throws Exception {
        byte[] original = Files.readAllBytes(fixture("keras/conv1d.keras"));
        byte[] bytes = switch (kind) {
            case "empty" -> new byte[0];
            case "random" -> new java.util.Random(7).ints(5000, 0, 256).collect(java.io.ByteArrayOutputStream::new,
                    java.io.ByteArrayOutputStream::write, (a, b) -> { }).toByteArray();
            default -> Arrays.copyOf(original, original.length / 2);
        };
        Path model = dir.resolve(kind + ".keras");
        Files.write(model, bytes);
        assertRefused(extend(model, dir.resolve("o.keras")), 4, kind + ".keras: not a readable .keras archive (zip)");
        assertRefused(cli("inspect", model.toString()), 4, kind + ".keras: not a readable .keras archive (zip)");
        assertHolds(dir, kind + ".keras");
    }

    /** Bytes before the first entry (as in a self-extracting archive): read like any zip tool reads them. */
    @Test
    void bytesPrependedAreRead(@TempDir Path dir) throws Exception {
        byte[] original = Files.readAllBytes(fixture("keras/conv1d.keras"));
        byte[] bytes = new byte[original.length + 100];
        Arrays.fill(bytes, 0, 100, (byte) 'x');
        System.arraycopy(original, 0, bytes, 100, original.length);
        Path model = dir.resolve("prefixed.keras");
        Files.write(model, bytes);
        TestSupport.Run run = extend(model, dir.resolve("o.keras"));
        assertEquals(0, run.exitCode(), run.out() + run.err());
    }

    @Test
    void badMetadataNamesTheArchive(@TempDir Path dir) throws Exception {
        Path model = rewrite(dir, "meta.keras", "", "return b'{nope' if n == 'metadata.json' else data");
        assertRefused(extend(model, dir.resolve("o.keras")), 4, "meta.keras: metadata.json is not valid JSON");
    }

    /** The weights are read from a scratch copy; a failure there names the archive and the entry. */
    @Test
    void weightsThatAreNotHdf5NameTheArchiveAndEntry(@TempDir Path dir) throws Exception {
        Path model = rewrite(dir, "text.keras", "", "return b'not hdf5' if n == 'model.weights.h5' else data");
        assertRefused(cli("inspect", model.toString()), 4, "text.keras: model.weights.h5: not an HDF5 file");
        assertRefused(extend(model, dir.resolve("o.keras")), 4, "text.keras: model.weights.h5: not an HDF5 file");
        assertHolds(dir, "text.keras");
    }

    /** A file no format reads: the message lists every format rechannel has. */
    @Test
    void unknownFileListsEveryFormat(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("model.tflite");
        Files.writeString(model, "not a model");
        assertRefused(cli("inspect", model.toString()), 5, "model.tflite: not a model file rechannel reads",
                "Keras .keras", "Keras .h5/.hdf5 and Keras 3 .weights.h5", "ONNX .onnx",
                "PyTorch .safetensors (single or sharded, .safetensors.index.json) and torch.save .pth/.pt/.bin/.ckpt");
    }
}

package io.rechannel.keras;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;

/**
 * Entry-level damage to a zip archive: header fields (CRC-32, sizes, method, flags) of a local or
 * central header set to other values, and archives rebuilt with valid checksums around a damaged
 * entry, a changed compression or a duplicated entry, so that the damage reaches the JSON and HDF5
 * readers behind the zip checks.
 */
final class ZipMutations {

    private ZipMutations() {
    }

    /** A header field: its offset from the header's signature and its width. */
    enum Field {
        LOCAL_FLAGS(true, 6, 2), LOCAL_METHOD(true, 8, 2), LOCAL_CRC(true, 14, 4), LOCAL_COMPRESSED(true, 18, 4),
        LOCAL_SIZE(true, 22, 4), LOCAL_NAME_LENGTH(true, 26, 2), CENTRAL_FLAGS(false, 8, 2), CENTRAL_METHOD(false, 10, 2),
        CENTRAL_CRC(false, 16, 4), CENTRAL_COMPRESSED(false, 20, 4), CENTRAL_SIZE(false, 24, 4),
        CENTRAL_LOCAL_OFFSET(false, 42, 4);

        final boolean local;
        final int offset;
        final int width;

        Field(boolean local, int offset, int width) {
            this.local = local;
            this.offset = offset;
            this.width = width;
        }
    }

    /** Sets a field of the {@code index}-th local or central header (counted modulo their number). */
    record FieldEdit(Field field, int index, long value) implements Mutations.Mutation {
        public byte[] apply(byte[] bytes) {
            List<Integer> headers = signatures(bytes, field.local ? 0x04034b50 : 0x02014b50);
            if (headers.isEmpty()) {
                return bytes;
            }
            int at = headers.get(Math.floorMod(index, headers.size())) + field.offset;
            return new Mutations.Overwrite(at, field.width, value).apply(bytes);
        }
    }

    /**
     * The archive written anew: entry {@code index}'s content damaged by {@code damage} (its CRC-32 then
     * computed afresh), every entry with compression {@code method} ({@code -1}: as it was), and with
     * {@code duplicate} the damaged entry written twice.
     */
    record Rebuild(int index, List<Mutations.Mutation> damage, int method, boolean duplicate) implements Mutations.Mutation {
        public byte[] apply(byte[] bytes) {
            try (ZipFile zip = ZipFile.builder().setSeekableByteChannel(new SeekableInMemoryByteChannel(bytes)).get()) {
                List<ZipArchiveEntry> entries = Collections.list(zip.getEntries());
                int target = Math.floorMod(index, entries.size());
                ByteArrayOutputStream buffer = new ByteArrayOutputStream();
                try (ZipArchiveOutputStream out = new ZipArchiveOutputStream(buffer)) {
                    for (int i = 0; i < entries.size(); i++) {
                        byte[] content;
                        try (InputStream in = zip.getInputStream(entries.get(i))) {
                            content = in.readAllBytes();
                        }
                        if (i == target) {
                            content = Mutations.apply(damage, content);
                        }
                        int m = method < 0 ? entries.get(i).getMethod() : method;
                        write(out, entries.get(i).getName(), content, m);
                        if (i == target && duplicate) {
                            write(out, entries.get(i).getName(), content, m);
                        }
                    }
                }
                return buffer.toByteArray();
            } catch (IOException e) {
                return bytes; // not a zip any more: nothing to rebuild
            }
        }
    }

    private static void write(ZipArchiveOutputStream out, String name, byte[] content, int method) throws IOException {
        ZipArchiveEntry entry = new ZipArchiveEntry(name);
        entry.setMethod(method == ZipEntry.STORED ? ZipEntry.STORED : ZipEntry.DEFLATED);
        CRC32 crc = new CRC32();
        crc.update(content);
        entry.setSize(content.length);
        entry.setCrc(crc.getValue());
        if (method == ZipEntry.STORED) {
            entry.setCompressedSize(content.length);
        }
        out.putArchiveEntry(entry);
        out.write(content);
        out.closeArchiveEntry();
    }

    static List<Integer> signatures(byte[] bytes, int signature) {
        List<Integer> found = new ArrayList<>();
        for (int i = 0; i + 4 <= bytes.length; i++) {
            int value = (bytes[i] & 0xFF) | (bytes[i + 1] & 0xFF) << 8 | (bytes[i + 2] & 0xFF) << 16 | (bytes[i + 3] & 0xFF) << 24;
            if (value == signature) {
                found.add(i);
            }
        }
        return found;
    }

    /** Damage to an archive of {@code length} bytes whose headers are at {@code hot}. */
    static Arbitrary<List<Mutations.Mutation>> archiveDamage(int length, int[] hot, int entryCount) {
        Arbitrary<Long> values = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(0L, 1L, 8L, 12L, 14L, 99L, 0xFFFFL, 0xFFFFFFFFL, 0x7FFFFFFFL)),
                Tuple.of(1, Arbitraries.longs()));
        Arbitrary<Mutations.Mutation> field = Arbitraries.of(Field.class).flatMap(f -> Arbitraries.integers().between(0, 7)
                .flatMap(i -> values.map(v -> new FieldEdit(f, i, v))));
        Arbitrary<Mutations.Mutation> rebuild = Arbitraries.integers().between(0, entryCount - 1).flatMap(i ->
                Mutations.sequences(4096, new int[0]).flatMap(damage -> Arbitraries.of(-1, 0, 8).flatMap(m ->
                        Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.just(false)), Tuple.of(1, Arbitraries.just(true)))
                                .map(d -> new Rebuild(i, damage, m, d)))));
        Arbitrary<List<Mutations.Mutation>> bytes = Mutations.sequences(length, hot);
        return Arbitraries.frequencyOf(
                Tuple.of(3, bytes),
                Tuple.of(3, field.list().ofMinSize(1).ofMaxSize(2)),
                Tuple.of(4, rebuild.map(List::of)));
    }
}

package io.rechannel.keras;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.core.RechannelException;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.archivers.zip.ZipMethod;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;

/**
 * A Keras 3 {@code .keras} archive: a zip of {@code metadata.json}, {@code config.json} and
 * {@code model.weights.h5}, entries stored uncompressed. The weights are copied out to a file HDF5 can
 * open (a kernel-level copy for stored entries), and the archive is written back with the same entries
 * in the same order, the unchanged ones byte for byte.
 *
 * <p>Every entry read is checked against its recorded size and CRC-32 ({@link CheckedEntry}); JSON
 * entries may inflate to at most {@link #MAX_JSON_BYTES}, checked while inflating. Encrypted entries
 * and duplicate names are refused when the archive is opened.
 */
final class KerasArchive implements AutoCloseable {

    static final String CONFIG = "config.json";
    static final String WEIGHTS = "model.weights.h5";
    static final String METADATA = "metadata.json";
    /** The largest config.json or metadata.json rechannel reads: 64 MiB (real configs take a few). */
    static final long MAX_JSON_BYTES = 64L << 20;
    private static final int COPY_BUFFER = 4 << 20;

    private final Path path;
    private final ZipFile zip;
    private final List<ZipArchiveEntry> entries;

    private KerasArchive(Path path, ZipFile zip) {
        this.path = path;
        this.zip = zip;
        this.entries = Collections.list(zip.getEntries());
    }

    static KerasArchive open(Path path) {
        ZipFile zip;
        try {
            zip = ZipFile.builder().setPath(path).get();
        } catch (IOException | RuntimeException e) {
            throw RechannelException.malformed(path + ": not a readable .keras archive (zip): " + e.getMessage());
        }
        KerasArchive archive = new KerasArchive(path, zip);
        try {
            archive.checkEntries();
        } catch (RuntimeException e) {
            archive.close();
            throw e;
        }
        return archive;
    }

    private void checkEntries() {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            Set<String> names = new HashSet<>();
            for (ZipArchiveEntry entry : entries) {
                checkEntry(entry, channel, names);
            }
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, path + ": " + e.getMessage(), e);
        }
    }

    /**
     * An entry's data must lie inside the archive, its local header must agree with the directory (the
     * reader trusts one, the in-place writer copies the other), its name must be unique and its content
     * unencrypted.
     */
    private void checkEntry(ZipArchiveEntry entry, FileChannel channel, Set<String> names) throws IOException {
        long offset = entry.getDataOffset();
        if (offset < 0 || entry.getCompressedSize() < 0 || offset > channel.size() - entry.getCompressedSize()) {
            throw RechannelException.malformed(label(entry.getName()) + ": its data lies outside the archive"
                    + " (truncated or damaged)");
        }
        ByteBuffer local = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
        channel.read(local, entry.getLocalHeaderOffset());
        int flags = local.getShort(6) & 0xFFFF;
        boolean descriptor = (flags & 8) != 0;
        boolean agrees = local.getInt(0) == 0x04034b50
                && (flags & 9) == (entry.getRawFlag() & 9)
                && (local.getShort(8) & 0xFFFF) == entry.getMethod()
                && (descriptor || (local.getInt(14) & 0xFFFFFFFFL) == entry.getCrc()
                && sameSize(local.getInt(18), entry.getCompressedSize()) && sameSize(local.getInt(22), entry.getSize()));
        if (!agrees) {
            throw RechannelException.malformed(label(entry.getName()) + ": its local header disagrees with the archive's"
                    + " directory (damaged archive)");
        }
        if (!names.add(entry.getName())) {
            throw RechannelException.malformed(path + ": the archive has two entries named " + entry.getName());
        }
        if (entry.getGeneralPurposeBit().usesEncryption()) {
            throw RechannelException.unsupported(path + ": entry " + entry.getName() + " is encrypted;"
                    + " rechannel reads only unencrypted archives");
        }
    }

    /** A local header's 32-bit size against the directory's (0xFFFFFFFF: the size is in the zip64 field). */
    private static boolean sameSize(int local, long central) {
        return local == -1 || (local & 0xFFFFFFFFL) == central;
    }

    /** How messages name an entry: the archive, then the entry. */
    String label(String name) {
        return path + ": " + name;
    }

    private ZipArchiveEntry entry(String name) {
        ZipArchiveEntry entry = zip.getEntry(name);
        if (entry == null) {
            throw RechannelException.malformed(path + ": the archive has no " + name + " (entries: "
                    + entries.stream().map(ZipArchiveEntry::getName).toList() + ")");
        }
        if (!zip.canReadEntryData(entry)) {
            throw RechannelException.unsupported(label(name) + ": compressed with " + methodName(entry.getMethod())
                    + ", which rechannel cannot read");
        }
        return entry;
    }

    boolean has(String name) {
        return zip.getEntry(name) != null;
    }

    /** A JSON entry, parsed as it inflates; refused past {@link #MAX_JSON_BYTES}. */
    ObjectNode readJson(String name) {
        try (InputStream in = open(name, MAX_JSON_BYTES)) {
            ObjectNode node;
            try {
                node = KerasJson.parseObject(in, label(name));
            } catch (RechannelException e) {
                // damage to the entry (its CRC) explains a parse failure better than the parser can
                in.transferTo(OutputStream.nullOutputStream());
                throw e;
            }
            // reading to the end checks the size and CRC-32
            in.transferTo(OutputStream.nullOutputStream());
            return node;
        } catch (IOException e) {
            throw RechannelException.malformed(label(name) + ": cannot read: " + e.getMessage());
        }
    }

    String readText(String name) {
        try (InputStream in = open(name, MAX_JSON_BYTES)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw RechannelException.malformed(label(name) + ": cannot read: " + e.getMessage());
        }
    }

    private InputStream open(String name, long limit) throws IOException {
        ZipArchiveEntry entry = entry(name);
        return new CheckedEntry(zip.getInputStream(entry), entry, label(name), limit);
    }

    /** Copies an entry's content to {@code target}, checking its size and CRC-32. */
    void extract(String name, Path target) {
        ZipArchiveEntry entry = entry(name);
        // not truncated first but cut where the copy ends: truncating a file to nothing makes ext4 write all of
        // it back at close (the target is usually new and empty)
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
            if (entry.getMethod() == ZipEntry.STORED && entry.getDataOffset() > 0) {
                try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
                    if (entry.getSize() != entry.getCompressedSize() || entry.getDataOffset() > in.size() - entry.getSize()) {
                        throw RechannelException.malformed(label(name) + ": its data runs past the end of the archive"
                                + " (truncated or damaged)");
                    }
                    io.rechannel.format.ByteRanges.copy(in, entry.getDataOffset(), entry.getSize(), out, 0);
                }
                out.truncate(entry.getSize());
                CheckedEntry.checkCrc(out, 0, entry, label(name));
            } else {
                try (InputStream in = new CheckedEntry(zip.getInputStream(entry), entry, label(name), Long.MAX_VALUE)) {
                    out.truncate(in.transferTo(java.nio.channels.Channels.newOutputStream(out)));
                }
            }
        } catch (IOException e) {
            throw RechannelException.malformed(label(name) + ": cannot extract: " + e.getMessage());
        }
    }

    /**
     * Writes a copy of the archive to {@code target} (the work file of {@code output}), with the named entries' contents replaced by
     * files; every other entry is copied raw, with its original compression and checksum. A replaced
     * entry keeps its compression when it is stored or deflated; any other is written deflated, as
     * the returned notes say.
     */
    List<String> writeCopy(Path target, Path output, Map<String, Path> replacements) {
        List<String> notes = new ArrayList<>();
        // written from the start and cut where it ends, as extract
        try (FileChannel channel = FileChannel.open(target, StandardOpenOption.WRITE);
             ZipArchiveOutputStream out = new ZipArchiveOutputStream(channel)) {
            for (ZipArchiveEntry entry : entries) {
                Path replacement = replacements.get(entry.getName());
                if (replacement == null) {
                    try (InputStream raw = zip.getRawInputStream(entry)) {
                        out.addRawArchiveEntry(entry, raw);
                    }
                    continue;
                }
                ZipArchiveEntry fresh = new ZipArchiveEntry(entry.getName());
                int method = entry.getMethod();
                if (method != ZipEntry.STORED && method != ZipEntry.DEFLATED) {
                    notes.add(entry.getName() + " was compressed with " + methodName(method) + "; rechannel wrote it deflated");
                    method = ZipEntry.DEFLATED;
                }
                fresh.setMethod(method);
                fresh.setTime(entry.getTime());
                out.putArchiveEntry(fresh);
                try (InputStream in = Files.newInputStream(replacement)) {
                    byte[] buffer = new byte[COPY_BUFFER];
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        out.write(buffer, 0, n);
                    }
                }
                out.closeArchiveEntry();
            }
            out.finish();
            channel.truncate(channel.position());
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, output + ": cannot write the archive: " + e.getMessage(), e);
        }
        return notes;
    }

    private static String methodName(int method) {
        ZipMethod known = ZipMethod.getMethodByCode(method);
        return (known == null ? "an unknown method" : known.toString()) + " (method " + method + ")";
    }

    List<ZipArchiveEntry> entries() {
        return entries;
    }

    Path path() {
        return path;
    }

    List<String> entryNames() {
        List<String> names = new ArrayList<>();
        entries.forEach(e -> names.add(e.getName()));
        return names;
    }

    @Override
    public void close() {
        ZipFile.closeQuietly(zip);
    }
}

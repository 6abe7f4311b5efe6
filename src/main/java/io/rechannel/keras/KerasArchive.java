package io.rechannel.keras;

import io.rechannel.core.RechannelException;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;

/**
 * A Keras 3 {@code .keras} archive: a zip of {@code metadata.json}, {@code config.json} and
 * {@code model.weights.h5}, entries stored uncompressed. The weights are copied out to a file HDF5 can
 * open (a kernel-level copy for stored entries), and the archive is written back with the same entries
 * in the same order, the unchanged ones byte for byte.
 */
final class KerasArchive implements AutoCloseable {

    static final String CONFIG = "config.json";
    static final String WEIGHTS = "model.weights.h5";
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
        try {
            return new KerasArchive(path, ZipFile.builder().setPath(path).get());
        } catch (IOException e) {
            throw RechannelException.malformed(path + ": not a readable .keras archive (zip): " + e.getMessage());
        }
    }

    private ZipArchiveEntry entry(String name) {
        ZipArchiveEntry entry = zip.getEntry(name);
        if (entry == null) {
            throw RechannelException.malformed(path + ": the archive has no " + name + " (entries: "
                    + entries.stream().map(ZipArchiveEntry::getName).toList() + ")");
        }
        return entry;
    }

    String readText(String name) {
        try (InputStream in = zip.getInputStream(entry(name))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw RechannelException.malformed(path + ": cannot read " + name + ": " + e.getMessage());
        }
    }

    /** Copies an entry's content to {@code target}. */
    void extract(String name, Path target) {
        ZipArchiveEntry entry = entry(name);
        // not truncated first but cut at the end: truncating a file to nothing makes ext4 write all of it
        // back at close (the target is usually new and empty)
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
            long written;
            if (entry.getMethod() == ZipEntry.STORED && entry.getDataOffset() > 0) {
                try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
                    io.rechannel.format.ByteRanges.copy(in, entry.getDataOffset(), entry.getSize(), out, 0);
                }
                written = entry.getSize();
            } else {
                try (InputStream in = zip.getInputStream(entry)) {
                    written = in.transferTo(java.nio.channels.Channels.newOutputStream(out));
                }
            }
            out.truncate(written);
        } catch (IOException e) {
            throw RechannelException.malformed(path + ": cannot extract " + name + ": " + e.getMessage());
        }
    }

    /**
     * Writes a copy of the archive to {@code target}, with the named entries' contents replaced by
     * files; every other entry is copied raw, with its original compression and checksum.
     */
    void writeCopy(Path target, Map<String, Path> replacements) {
        // written from the start and cut at the end, as extract
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
                fresh.setMethod(entry.getMethod());
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
            throw new RechannelException(RechannelException.Kind.IO, target + ": cannot write the archive: " + e.getMessage(), e);
        }
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

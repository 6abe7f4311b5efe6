package io.rechannel.keras;

import io.rechannel.core.RechannelException;
import io.rechannel.format.ByteRanges;
import io.rechannel.format.Progress;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;

/**
 * Writes a {@code .keras} archive so that its weights can be edited where they lie: the weights entry's
 * data is placed at a power-of-two offset, where the HDF5 library finds the file's superblock (it
 * treats what precedes as a user block). The weights are copied once, by the kernel, from the input
 * archive into the output; HDF5 edits them there; the entries before them (metadata, then the new
 * config padded with trailing spaces, which JSON ignores) and the central directory are written
 * around them afterwards. No library edits a stored zip entry in place, hence this class.
 *
 * <p>Used when the weights are the last entry, stored uncompressed, and everything stays below 4 GiB
 * (no zip64); otherwise {@link KerasArchive#writeCopy} rewrites the archive entry by entry.
 */
final class InPlaceArchive {

    private static final int LOCAL_HEADER = 30;
    private static final long LIMIT = 0xFFFFFFFFL;
    /** Kept below 4 GiB per entry, for its central directory record (and for HDF5 growing the weights). */
    private static final long ROOM_PER_ENTRY = 65536L;

    private final KerasArchive archive;
    private final Path input;
    private final List<ZipArchiveEntry> entries;
    private final ZipArchiveEntry weights;
    private final long weightsOffset;

    private InPlaceArchive(KerasArchive archive, long weightsOffset) {
        this.archive = archive;
        this.input = archive.path();
        this.entries = archive.entries();
        this.weights = entries.get(entries.size() - 1);
        this.weightsOffset = weightsOffset;
    }

    /** The layout for {@code archive}, or null when it does not allow editing in place. */
    static InPlaceArchive plan(KerasArchive archive) {
        List<ZipArchiveEntry> entries = archive.entries();
        if (entries.isEmpty()) {
            return null;
        }
        ZipArchiveEntry last = entries.get(entries.size() - 1);
        long prefix = 0;
        boolean configStored = false;
        for (ZipArchiveEntry entry : entries) {
            if (entry != last) {
                prefix += LOCAL_HEADER + entry.getRawName().length + entry.getCompressedSize();
            }
            if (entry.getName().equals(KerasArchive.CONFIG)) {
                configStored = entry.getMethod() == ZipEntry.STORED && entry != last;
            }
            if ((entry.getRawFlag() & 8) != 0 || entry.getCompressedSize() < 0) {
                return null; // sizes in a data descriptor
            }
        }
        if (!last.getName().equals(KerasArchive.WEIGHTS) || last.getMethod() != ZipEntry.STORED || !configStored) {
            return null;
        }
        // room for the config to grow (new channel counts, longer per-channel lists): an eighth more, and 4 KiB
        long needed = prefix + LOCAL_HEADER + last.getRawName().length + prefix / 8 + 4096;
        long offset = 512;
        while (offset < needed) {
            offset <<= 1;
        }
        // sizes and offsets up to 4 GiB fit the zip headers' 32 bits (read unsigned, as by Python's zipfile)
        if (offset + last.getSize() > LIMIT - ROOM_PER_ENTRY * entries.size()) {
            return null;
        }
        return new InPlaceArchive(archive, offset);
    }

    /**
     * Copies the weights' bytes from the input archive to their place in {@code work} (the work file of
     * {@code output}) and checks them against the archive's CRC-32.
     */
    void placeWeights(Path work, Path output) {
        try (FileChannel in = FileChannel.open(input, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(work, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            try (Progress progress = Progress.of("copying weights",
                    weights.getCompressedSize())) {
                ByteRanges.copy(in, weights.getDataOffset(), weights.getCompressedSize(), out, weightsOffset, progress);
            }
            CheckedEntry.checkCrc(out, weightsOffset, weights, archive.label(weights.getName()));
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, output + ": cannot copy the weights: " + e.getMessage(), e);
        }
    }

    /**
     * Completes {@code output} once HDF5 has finished with the weights: the entries before them, their
     * header, the central directory. Returns false (leaving the output to be rewritten) when the new
     * config does not fit in the room kept for it.
     */
    boolean finish(Path work, Path output, byte[] config) {
        try (FileChannel in = FileChannel.open(input, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(work, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long weightsSize = out.size() - weightsOffset;
            long padding = padding(config);
            if (padding < 0 || out.size() + ROOM_PER_ENTRY * entries.size() > LIMIT) {
                return false;
            }
            byte[] paddedConfig = new byte[(int) (config.length + padding)];
            System.arraycopy(config, 0, paddedConfig, 0, config.length);
            Arrays.fill(paddedConfig, config.length, paddedConfig.length, (byte) ' ');
            CRC32 configCrc = new CRC32();
            configCrc.update(paddedConfig);
            long weightsCrc = CheckedEntry.crc(out, weightsOffset, weightsSize);

            List<long[]> written = new ArrayList<>(); // offset, crc, size per entry
            long position = 0;
            for (ZipArchiveEntry entry : entries) {
                ByteBuffer header = rawLocalHeader(in, entry);
                long crc = entry.getCrc();
                long compressed = entry.getCompressedSize();
                long size = entry.getSize();
                if (entry == weights) {
                    crc = weightsCrc;
                    compressed = size = weightsSize;
                } else if (entry.getName().equals(KerasArchive.CONFIG)) {
                    crc = configCrc.getValue();
                    compressed = size = paddedConfig.length;
                }
                written.add(new long[] {position, crc, size});
                ByteBuffer local = localHeader(header, entry, crc, compressed, size);
                position += write(out, local, position);
                if (entry == weights) {
                    if (position != weightsOffset) {
                        throw new IllegalStateException("weights header ends at " + position + ", not " + weightsOffset);
                    }
                } else if (entry.getName().equals(KerasArchive.CONFIG)) {
                    position += write(out, ByteBuffer.wrap(paddedConfig), position);
                } else {
                    ByteRanges.copy(in, entry.getDataOffset(), entry.getCompressedSize(), out, position);
                    position += entry.getCompressedSize();
                }
            }
            long directory = weightsOffset + weightsSize;
            long cursor = directory;
            for (int i = 0; i < entries.size(); i++) {
                cursor += write(out, centralHeader(rawLocalHeader(in, entries.get(i)), entries.get(i), written.get(i)), cursor);
            }
            ByteBuffer end = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
            end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) entries.size())
                    .putShort((short) entries.size()).putInt((int) (cursor - directory)).putInt((int) directory)
                    .putShort((short) 0).flip();
            cursor += write(out, end, cursor);
            out.truncate(cursor);
            return true;
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, output + ": cannot complete the archive: " + e.getMessage(), e);
        }
    }

    /** True when a config of that text fits in the room kept in front of the weights. */
    boolean fits(byte[] config) {
        return padding(config) >= 0;
    }

    /** The spaces that pad {@code config} to the weights' offset; negative when it does not fit. */
    private long padding(byte[] config) {
        long fixed = 0;
        for (ZipArchiveEntry entry : entries) {
            fixed += LOCAL_HEADER + entry.getRawName().length;
            if (entry != weights && !entry.getName().equals(KerasArchive.CONFIG)) {
                fixed += entry.getCompressedSize();
            }
        }
        return weightsOffset - fixed - config.length;
    }

    long weightsOffset() {
        return weightsOffset;
    }

    private ByteBuffer rawLocalHeader(FileChannel in, ZipArchiveEntry entry) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(LOCAL_HEADER).order(ByteOrder.LITTLE_ENDIAN);
        in.read(header, entry.getLocalHeaderOffset());
        if (header.getInt(0) != 0x04034b50) {
            throw RechannelException.malformed(archive.label(entry.getName()) + ": no local header where the archive's"
                    + " directory puts it (damaged archive)");
        }
        return header;
    }

    /** The entry's local header with new checksum and sizes and no extra field. */
    private static ByteBuffer localHeader(ByteBuffer raw, ZipArchiveEntry entry, long crc, long compressed, long size) {
        byte[] name = entry.getRawName();
        ByteBuffer b = ByteBuffer.allocate(LOCAL_HEADER + name.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x04034b50).putShort(raw.getShort(4)).putShort(raw.getShort(6)).putShort(raw.getShort(8))
                .putShort(raw.getShort(10)).putShort(raw.getShort(12)).putInt((int) crc).putInt((int) compressed)
                .putInt((int) size).putShort((short) name.length).putShort((short) 0).put(name).flip();
        return b;
    }

    private static ByteBuffer centralHeader(ByteBuffer raw, ZipArchiveEntry entry, long[] written) {
        byte[] name = entry.getRawName();
        byte[] comment = entry.getComment() == null ? new byte[0] : entry.getComment().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(46 + name.length + comment.length).order(ByteOrder.LITTLE_ENDIAN);
        short madeBy = entry.getVersionMadeBy() != 0 ? (short) entry.getVersionMadeBy() : raw.getShort(4);
        b.putInt(0x02014b50).putShort(madeBy)
                .putShort(raw.getShort(4)).putShort(raw.getShort(6)).putShort(raw.getShort(8))
                .putShort(raw.getShort(10)).putShort(raw.getShort(12)).putInt((int) written[1])
                .putInt((int) (entry.getMethod() == ZipEntry.STORED ? written[2] : entry.getCompressedSize()))
                .putInt((int) written[2]).putShort((short) name.length).putShort((short) 0)
                .putShort((short) comment.length).putShort((short) 0).putShort((short) entry.getInternalAttributes())
                .putInt((int) entry.getExternalAttributes()).putInt((int) written[0]).put(name).put(comment).flip();
        return b;
    }

    private static int write(FileChannel out, ByteBuffer buffer, long position) throws IOException {
        int total = buffer.remaining();
        long at = position;
        while (buffer.hasRemaining()) {
            at += out.write(buffer, at);
        }
        return total;
    }
}

package io.rechannel.torch;

import io.rechannel.core.RechannelException;
import io.rechannel.format.ModelFormats;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The zip container of a torch.save file, read with commons-compress: records under one folder
 * ({@code archive/data.pkl}, {@code archive/data/0}, {@code archive/version}, ...), in the order they are
 * stored, with where each one's data lies, so that unchanged records are copied by the kernel.
 */
final class TorchZip {

    /** One record: its name in the archive and what its headers say. */
    record Record(String name, int method, long crc, long size, long compressedSize, long dataOffset, int flags,
                  int time, int date) {
    }

    private final Path file;
    private final String prefix;
    private final List<Record> records;
    private final Map<String, Record> byName = new LinkedHashMap<>();

    private TorchZip(Path file, String prefix, List<Record> records) {
        this.file = file;
        this.prefix = prefix;
        this.records = records;
        records.forEach(r -> byName.put(r.name(), r));
    }

    /** Cheap test for a zip whose first record is a torch.save pickle ({@code <folder>/data.pkl}). */
    static boolean looksLikeTorch(Path file) {
        byte[] head = ModelFormats.head(file, 30 + 512);
        if (head.length < 30) {
            return false;
        }
        int nameLength = ByteBuffer.wrap(head, 26, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
        return head.length >= 30 + nameLength
                && new String(head, 30, nameLength, StandardCharsets.UTF_8).endsWith("/data.pkl");
    }

    static TorchZip open(Path file) {
        List<Record> records = new ArrayList<>();
        try (ZipFile zip = ZipFile.builder().setPath(file).get();
             FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            for (ZipArchiveEntry entry : Collections.list(zip.getEntriesInPhysicalOrder())) {
                if (entry.getGeneralPurposeBit().usesEncryption()) {
                    throw RechannelException.unsupported(file + ": record " + entry.getName() + " is encrypted");
                }
                ByteBuffer local = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
                SafetensorsFile.readFully(channel, local, entry.getLocalHeaderOffset());
                local.flip();
                records.add(new Record(entry.getName(), entry.getMethod(), entry.getCrc(), entry.getSize(),
                        entry.getCompressedSize(), entry.getDataOffset(), local.getShort(6) & 0xffff,
                        local.getShort(10) & 0xffff, local.getShort(12) & 0xffff));
            }
        } catch (IOException e) {
            throw RechannelException.malformed(file + ": not a torch.save file: not a readable zip archive ("
                    + e.getMessage() + ")");
        }
        if (records.isEmpty()) {
            throw RechannelException.malformed(file + ": an empty zip archive, not a torch.save file");
        }
        String first = records.get(0).name();
        int slash = first.indexOf('/');
        String prefix = slash < 0 ? "" : first.substring(0, slash + 1);
        for (Record r : records) {
            if (!r.name().startsWith(prefix) || r.name().contains("..")) {
                throw RechannelException.malformed(file + ": record " + r.name() + " is outside the archive folder " + prefix);
            }
        }
        return new TorchZip(file, prefix, records);
    }

    Path file() {
        return file;
    }

    /** The folder every record is in, with its slash ({@code archive/}). */
    String prefix() {
        return prefix;
    }

    List<Record> records() {
        return records;
    }

    /** A record by its name inside the folder ({@code data.pkl}), or null. */
    Record record(String name) {
        return byName.get(prefix + name);
    }

    /** A whole record's contents, checked against its CRC. */
    byte[] read(Record record) {
        if (record.size() > Integer.MAX_VALUE - 16) {
            throw RechannelException.unsupported(file + ": record " + record.name() + " is over 2 GiB; rechannel reads"
                    + " only the pickle and input layers' storages, which are small");
        }
        byte[] data;
        try (ZipFile zip = ZipFile.builder().setPath(file).get()) {
            ZipArchiveEntry entry = zip.getEntry(record.name());
            try (InputStream in = zip.getInputStream(entry)) {
                data = in.readNBytes((int) record.size());
            }
        } catch (IOException e) {
            throw RechannelException.malformed(file + ": record " + record.name() + " cannot be read: " + e.getMessage());
        }
        CRC32 crc = new CRC32();
        crc.update(data);
        if (data.length != record.size() || crc.getValue() != record.crc()) {
            throw RechannelException.malformed(file + ": record " + record.name() + " is damaged (CRC or size differs"
                    + " from the zip directory)");
        }
        return data;
    }
}

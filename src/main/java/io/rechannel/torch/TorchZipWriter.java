package io.rechannel.torch;

import io.rechannel.format.ByteRanges;
import io.rechannel.format.Progress;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Writes a torch.save archive as PyTorch's own writer lays it out: records in the source's order, each
 * record's data aligned to 64 bytes by a padding extra field ("FB"), sizes in a data descriptor after
 * the data, ZIP64 fields where sizes or offsets pass 4 GiB. Unchanged records are copied by the kernel
 * with their CRC; replaced ones are stored with a new CRC; omitted ones are left out.
 */
final class TorchZipWriter {

    static final int ALIGNMENT = 64;
    private static final long MAX32 = 0xffffffffL;

    /**
     * Sizes from which ZIP64 fields are written; tests lower it to write ZIP64 records without a 4 GiB
     * file (offsets always use the real limit: miniz, PyTorch's reader, checks them against the file size).
     */
    static long zip64Threshold = MAX32;

    private record Written(String name, int method, long crc, long size, long compressedSize, long offset, int flags,
                           int time, int date) {
        boolean zip64() {
            return size >= zip64Threshold || compressedSize >= zip64Threshold || offset >= MAX32;
        }
    }

    private TorchZipWriter() {
    }

    static void write(TorchZip source, Map<String, byte[]> replaced, Set<String> omitted, Path target) throws IOException {
        List<Written> written = new ArrayList<>();
        try (FileChannel in = FileChannel.open(source.file(), StandardOpenOption.READ);
             // written from the start and cut where it ends, as SafetensorsWriter
             FileChannel out = FileChannel.open(target, StandardOpenOption.WRITE);
             Progress progress = Progress.of("writing " + target.getFileName(), in.size())) {
            for (TorchZip.Record r : source.records()) {
                if (omitted.contains(r.name())) {
                    continue;
                }
                byte[] data = replaced.get(r.name());
                long offset = out.position();
                Written w;
                if (data == null) {
                    w = new Written(r.name(), r.method(), r.crc(), r.size(), r.compressedSize(), offset, r.flags(), r.time(), r.date());
                } else {
                    CRC32 crc = new CRC32();
                    crc.update(data);
                    w = new Written(r.name(), 0, crc.getValue(), data.length, data.length, offset, r.flags(), r.time(), r.date());
                }
                SafetensorsWriter.writeFully(out, localHeader(w, offset));
                if (data == null) {
                    long at = out.position();
                    ByteRanges.copy(in, r.dataOffset(), r.compressedSize(), out, at, progress);
                    out.position(at + r.compressedSize());
                } else {
                    SafetensorsWriter.writeFully(out, ByteBuffer.wrap(data));
                }
                SafetensorsWriter.writeFully(out, descriptor(w));
                written.add(w);
            }
            long directory = out.position();
            for (Written w : written) {
                SafetensorsWriter.writeFully(out, centralHeader(w));
            }
            SafetensorsWriter.writeFully(out, end(written.size(), directory, out.position() - directory, out.position()));
            out.truncate(out.position());
        }
    }

    private static ByteBuffer localHeader(Written w, long offset) {
        byte[] name = w.name().getBytes(StandardCharsets.UTF_8);
        int zip64Extra = w.zip64() ? 20 : 0;
        long dataStart = offset + 30 + name.length + zip64Extra + 4;
        int padding = (int) ((ALIGNMENT - dataStart % ALIGNMENT) % ALIGNMENT);
        ByteBuffer b = ByteBuffer.allocate(30 + name.length + zip64Extra + 4 + padding).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x04034b50).putShort((short) (w.zip64() ? 45 : 20)).putShort((short) flags(w)).putShort((short) w.method())
                .putShort((short) w.time()).putShort((short) w.date()).putInt(0)
                .putInt(w.zip64() ? -1 : 0).putInt(w.zip64() ? -1 : 0)
                .putShort((short) name.length).putShort((short) (zip64Extra + 4 + padding)).put(name);
        if (w.zip64()) {
            b.putShort((short) 1).putShort((short) 16).putLong(0).putLong(0);
        }
        b.put((byte) 'F').put((byte) 'B').putShort((short) padding);
        for (int i = 0; i < padding; i++) {
            b.put((byte) 'Z');
        }
        return b.flip();
    }

    private static ByteBuffer descriptor(Written w) {
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x08074b50).putInt((int) w.crc());
        if (w.zip64()) {
            b.putLong(w.compressedSize()).putLong(w.size());
        } else {
            b.putInt((int) w.compressedSize()).putInt((int) w.size());
        }
        return b.flip();
    }

    private static ByteBuffer centralHeader(Written w) {
        byte[] name = w.name().getBytes(StandardCharsets.UTF_8);
        boolean bigSize = w.size() >= zip64Threshold;
        boolean bigCompressed = w.compressedSize() >= zip64Threshold;
        boolean bigOffset = w.offset() >= MAX32;
        int fields = (bigSize ? 1 : 0) + (bigCompressed ? 1 : 0) + (bigOffset ? 1 : 0);
        int extra = fields == 0 ? 0 : 4 + 8 * fields;
        ByteBuffer b = ByteBuffer.allocate(46 + name.length + extra).order(ByteOrder.LITTLE_ENDIAN);
        short version = (short) (w.zip64() ? 45 : 20);
        b.putInt(0x02014b50).putShort(version).putShort(version).putShort((short) flags(w)).putShort((short) w.method())
                .putShort((short) w.time()).putShort((short) w.date()).putInt((int) w.crc())
                .putInt(bigCompressed ? -1 : (int) w.compressedSize()).putInt(bigSize ? -1 : (int) w.size())
                .putShort((short) name.length).putShort((short) extra).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putInt(0).putInt(bigOffset ? -1 : (int) w.offset()).put(name);
        if (fields > 0) {
            b.putShort((short) 1).putShort((short) (8 * fields));
            if (bigSize) {
                b.putLong(w.size());
            }
            if (bigCompressed) {
                b.putLong(w.compressedSize());
            }
            if (bigOffset) {
                b.putLong(w.offset());
            }
        }
        return b.flip();
    }

    /** Sizes follow the data (bit 3), as PyTorch writes them; names are UTF-8 (bit 11) where they need it. */
    private static int flags(Written w) {
        boolean ascii = StandardCharsets.US_ASCII.newEncoder().canEncode(w.name());
        return (w.flags() & 0x0800) | 0x0008 | (ascii ? 0 : 0x0800);
    }

    private static ByteBuffer end(int count, long directory, long directorySize, long position) {
        boolean zip64 = count >= 0xffff || directory >= zip64Threshold || directorySize >= zip64Threshold;
        ByteBuffer b = ByteBuffer.allocate(22 + (zip64 ? 56 + 20 : 0)).order(ByteOrder.LITTLE_ENDIAN);
        if (zip64) {
            b.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(count).putLong(count).putLong(directorySize).putLong(directory);
            b.putInt(0x07064b50).putInt(0).putLong(position).putInt(1);
        }
        b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) (zip64 ? -1 : count)).putShort((short) (zip64 ? -1 : count))
                .putInt(zip64 ? -1 : (int) directorySize).putInt(zip64 ? -1 : (int) directory).putShort((short) 0);
        return b.flip();
    }
}

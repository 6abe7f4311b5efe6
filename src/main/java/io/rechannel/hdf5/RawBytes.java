package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The bytes of an HDF5 file read through Java, at the file's own addresses (relative to its base, after
 * any user block), every read bounds-checked. Used to check structures that the C library would trust
 * blindly before handing it a read that could crash it.
 */
final class RawBytes implements AutoCloseable {

    private final FileChannel channel;
    private final long base;
    private final long end;
    final int offsetSize;
    final int lengthSize;
    private final String label;

    RawBytes(Path path, long base, int offsetSize, int lengthSize, String label) {
        this.label = label;
        this.base = base;
        this.offsetSize = offsetSize;
        this.lengthSize = lengthSize;
        try {
            this.channel = FileChannel.open(path, StandardOpenOption.READ);
            this.end = channel.size() - base;
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, label + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** {@code count} bytes at relative address {@code address}, little-endian; fails as malformed outside the file. */
    ByteBuffer read(long address, long count, String what) {
        if (address < 0 || count < 0 || count > Integer.MAX_VALUE - 8 || address > end - count) {
            throw RechannelException.malformed(label + ": " + what + " lies outside the file (damaged file)");
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) count).order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, base + address + buffer.position()) < 0) {
                    throw RechannelException.malformed(label + ": " + what + " lies outside the file (damaged file)");
                }
            }
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, label + ": cannot read: " + e.getMessage(), e);
        }
        return buffer.flip();
    }

    /** The file's size after its base address. */
    long end() {
        return end;
    }

    /** An unsigned little-endian number of {@code size} bytes (1 to 8) at the buffer's position, which advances. */
    static long number(ByteBuffer buffer, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (buffer.get() & 0xFFL) << (8 * i);
        }
        return value;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only; nothing to lose
        }
    }
}

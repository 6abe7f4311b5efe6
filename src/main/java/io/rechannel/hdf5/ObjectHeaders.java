package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

/**
 * Finds the stored value of an attribute in an object header (HDF5 file format, versions 1 and 2, with
 * continuation chunks), reading the file's bytes. The C library has no call that returns an attribute's
 * bytes as stored, and a variable-length value must be checked as stored before the library follows it.
 */
final class ObjectHeaders {

    private static final int CONTINUATION = 0x10;
    private static final int ATTRIBUTE = 0x0C;
    private static final int MESSAGE_SHARED = 0x02;
    private static final int MAX_CHUNKS = 4096;
    private static final long MAX_CHUNK_BYTES = 64L << 20;

    private final RawBytes file;

    ObjectHeaders(RawBytes file) {
        this.file = file;
    }

    private record Chunk(long address, long length, boolean v2) {
    }

    /**
     * The first {@code valueBytes} bytes of the value of attribute {@code name} in the header at
     * {@code address}, or null when the header does not hold it in place (dense attribute storage, or a
     * message shared through the file's shared-message table).
     */
    ByteBuffer attributeValue(long address, String name, long valueBytes, String where) {
        byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
        Deque<Chunk> chunks = new ArrayDeque<>();
        Set<Long> seen = new HashSet<>();
        ByteBuffer prefix = file.read(address, 16, where + " object header");
        boolean v2 = prefix.getInt(0) == 0x5244484F; // "OHDR"
        int headerFlags = 0;
        if (v2) {
            headerFlags = prefix.get(5) & 0xFF;
            long at = address + 6 + ((headerFlags & 0x20) != 0 ? 16 : 0) + ((headerFlags & 0x10) != 0 ? 4 : 0);
            int sizeBytes = 1 << (headerFlags & 0x03);
            long length = RawBytes.number(file.read(at, sizeBytes, where + " object header"), sizeBytes);
            chunks.add(new Chunk(at + sizeBytes, length, true));
        } else {
            if (prefix.get(0) != 1) {
                throw RechannelException.malformed(where + ": unknown object header version " + prefix.get(0) + " (damaged file)");
            }
            chunks.add(new Chunk(address + 16, prefix.getInt(8) & 0xFFFFFFFFL, false));
        }
        int creationOrderBytes = (headerFlags & 0x04) != 0 ? 2 : 0;
        while (!chunks.isEmpty()) {
            Chunk chunk = chunks.poll();
            if (!seen.add(chunk.address()) || seen.size() > MAX_CHUNKS || chunk.length() > MAX_CHUNK_BYTES) {
                throw RechannelException.malformed(where + ": its object header's chunks are inconsistent (damaged file)");
            }
            ByteBuffer bytes = file.read(chunk.address(), chunk.length(), where + " object header");
            int headerSize = chunk.v2() ? 4 + creationOrderBytes : 8;
            while (bytes.remaining() >= headerSize) {
                int type = chunk.v2() ? bytes.get() & 0xFF : bytes.getShort() & 0xFFFF;
                int size = bytes.getShort() & 0xFFFF;
                int flags = bytes.get() & 0xFF;
                bytes.position(bytes.position() + (chunk.v2() ? creationOrderBytes : 3));
                if (size > bytes.remaining()) {
                    throw RechannelException.malformed(where + ": an object header message runs past its chunk (damaged file)");
                }
                ByteBuffer message = bytes.slice(bytes.position(), size).order(bytes.order());
                bytes.position(bytes.position() + size);
                if (type == CONTINUATION) {
                    long next = RawBytes.number(message, file.offsetSize);
                    long length = RawBytes.number(message, file.lengthSize);
                    // version 2 continuation chunks start with "OCHK" and end with a checksum
                    chunks.add(chunk.v2() ? new Chunk(next + 4, length - 8, true) : new Chunk(next, length, false));
                } else if (type == ATTRIBUTE && (flags & MESSAGE_SHARED) == 0) {
                    ByteBuffer value = valueIfNamed(message, wanted, valueBytes, where);
                    if (value != null) {
                        return value;
                    }
                }
            }
        }
        return null;
    }

    /** The value of an attribute message when it carries the wanted name. */
    private static ByteBuffer valueIfNamed(ByteBuffer message, byte[] wanted, long valueBytes, String where) {
        if (message.remaining() < 8) {
            return null;
        }
        int version = message.get(0);
        int nameSize = message.getShort(2) & 0xFFFF;
        int typeSize = message.getShort(4) & 0xFFFF;
        int spaceSize = message.getShort(6) & 0xFFFF;
        int at = version == 3 ? 9 : 8;
        if (nameSize != wanted.length + 1 || at + nameSize > message.remaining()) {
            return null;
        }
        byte[] name = new byte[wanted.length];
        message.get(at, name);
        if (!Arrays.equals(name, wanted)) {
            return null;
        }
        long valueAt = version == 1 ? at + pad8(nameSize) + pad8(typeSize) + pad8(spaceSize)
                : (long) at + nameSize + typeSize + spaceSize;
        if (version < 1 || version > 3 || valueAt + valueBytes > message.remaining()) {
            throw RechannelException.malformed(where + ": its stored value is shorter than its type and shape say"
                    + " (damaged file)");
        }
        return message.slice((int) valueAt, (int) valueBytes).order(message.order());
    }

    private static long pad8(long size) {
        return (size + 7) & ~7L;
    }
}

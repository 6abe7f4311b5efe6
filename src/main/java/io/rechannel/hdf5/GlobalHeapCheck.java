package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Checks variable-length references before the HDF5 library follows them. A stored variable-length value
 * is (length, global heap collection address, object index); the library reads the object without
 * checking that the index exists or that the object is as long as the reference says, so one flipped
 * byte there crashes the process. Here each reference must name a collection inside the file, with the
 * "GCOL" signature, that holds an object of that index and exactly that length.
 */
final class GlobalHeapCheck {

    /** The longest string rechannel reads from an attribute (a model config): 64 MiB. */
    static final long MAX_STRING_BYTES = 64L << 20;

    private static final long WHOLE_READ = 1L << 20;

    private final RawBytes file;
    /** Object sizes by index, per collection address already walked. */
    private final Map<Long, Map<Integer, Long>> collections = new HashMap<>();

    GlobalHeapCheck(RawBytes file) {
        this.file = file;
    }

    /** Size in bytes of one stored reference. */
    int referenceSize() {
        return 4 + file.offsetSize + 4;
    }

    /** Checks {@code count} stored string references; {@code where} names the attribute. */
    void checkStrings(ByteBuffer references, int count, String where) {
        for (int i = 0; i < count; i++) {
            long length = references.getInt() & 0xFFFFFFFFL;
            long address = RawBytes.number(references, file.offsetSize);
            long index = references.getInt() & 0xFFFFFFFFL;
            if (address == 0) {
                continue; // a null reference: the library reads nothing
            }
            if (length > MAX_STRING_BYTES) {
                throw RechannelException.unsupported(where + ": a string of " + length + " bytes, over rechannel's limit of "
                        + (MAX_STRING_BYTES >> 20) + " MiB");
            }
            Long stored = objects(address, where).get((int) Math.min(index, Integer.MAX_VALUE));
            if (index == 0 || stored == null || stored != length) {
                throw RechannelException.malformed(where + ": its variable-length value refers to "
                        + (stored == null || index == 0 ? "no object " + index : "an object of " + stored + " bytes, not "
                        + length) + " in the global heap at " + address + " (damaged file)");
            }
        }
    }

    /** Walks a collection's objects as the library does, refusing any that would lead it outside. */
    private Map<Integer, Long> objects(long address, String where) {
        Map<Integer, Long> known = collections.get(address);
        if (known != null) {
            return known;
        }
        int lengthSize = file.lengthSize;
        int header = 8 + lengthSize;
        ByteBuffer head = file.read(address, header, where + " global heap");
        if (head.getInt(0) != 0x4C4F4347 || head.get(4) != 1) { // "GCOL", version 1
            throw RechannelException.malformed(where + ": its variable-length value refers to " + address
                    + ", which is not a global heap collection (damaged file)");
        }
        head.position(8);
        long size = RawBytes.number(head, lengthSize);
        if (size < header || size > file.end() - address) {
            throw RechannelException.malformed(where + ": the global heap collection at " + address + " claims "
                    + size + " bytes (damaged file)");
        }
        Map<Integer, Long> sizes = new HashMap<>();
        int objectHeader = 8 + lengthSize;
        // a usual collection is 4 KiB: read it at once; a large one (holding a long string) object by object
        ByteBuffer whole = size <= WHOLE_READ ? file.read(address, size, where + " global heap") : null;
        long at = header;
        while (at < size) {
            if (at + objectHeader > size) {
                break; // too small for an object: free space
            }
            ByteBuffer object = whole != null ? whole.slice((int) at, objectHeader).order(whole.order())
                    : file.read(address + at, objectHeader, where + " global heap");
            int index = object.getShort() & 0xFFFF;
            object.position(8);
            long objectSize = RawBytes.number(object, lengthSize);
            long need = index > 0 ? objectHeader + ((objectSize + 7) & ~7L) : objectSize;
            if (objectSize < 0 || need < objectHeader || need > size - at) {
                throw RechannelException.malformed(where + ": the global heap collection at " + address
                        + " has an object that does not fit in it (damaged file)");
            }
            if (index > 0) {
                sizes.put(index, objectSize);
            }
            at += need;
        }
        collections.put(address, sizes);
        return sizes;
    }
}

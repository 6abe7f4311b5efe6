package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;
import org.bytedeco.hdf5.H5O_info2_t;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.nio.ByteBuffer;
import java.nio.file.Path;

import static org.bytedeco.hdf5.global.hdf5.*;

/**
 * Checks the stored form of a variable-length string attribute, read from the file's own bytes, before
 * the HDF5 library follows its references into the global heap (see {@link GlobalHeapCheck}).
 */
final class StoredValues implements AutoCloseable {

    private final long fileId;
    private final String label;
    private final RawBytes raw;
    private final ObjectHeaders headers;
    private final GlobalHeapCheck heap;

    private StoredValues(long fileId, String label, RawBytes raw) {
        this.fileId = fileId;
        this.label = label;
        this.raw = raw;
        this.headers = new ObjectHeaders(raw);
        this.heap = new GlobalHeapCheck(raw);
    }

    /** Reads the file's geometry (user block, address and length sizes) from the library. */
    static StoredValues of(long fileId, Path path, String label) {
        long plist = H5Fget_create_plist(fileId);
        if (plist < 0) {
            throw RechannelException.malformed(label + ": cannot read the file's creation properties (damaged file)");
        }
        try (SizeTPointer offsets = new SizeTPointer(1); SizeTPointer lengths = new SizeTPointer(1)) {
            long[] userBlock = new long[1];
            if (H5Pget_userblock(plist, userBlock) < 0 || H5Pget_sizes(plist, offsets, lengths) < 0) {
                throw RechannelException.malformed(label + ": cannot read the file's creation properties (damaged file)");
            }
            return new StoredValues(fileId, label, new RawBytes(path, userBlock[0], (int) offsets.get(),
                    (int) lengths.get(), label));
        } finally {
            H5Pclose(plist);
        }
    }

    /**
     * Checks the {@code count} references of variable-length string attribute {@code name} of
     * {@code objectPath}. An attribute the object header does not hold in place (dense attribute storage,
     * never written by Keras) cannot be checked and is refused.
     */
    void checkStringAttribute(String objectPath, String name, int count) {
        String where = label + ": attribute " + objectPath + "@" + name;
        long address;
        try (H5O_info2_t info = new H5O_info2_t()) {
            if (H5Oget_info_by_name3(fileId, objectPath, info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
                throw RechannelException.malformed(where + ": cannot read its object (damaged file)");
            }
            BytePointer token = info.token().__data();
            byte[] bytes = new byte[raw.offsetSize];
            token.get(bytes);
            address = RawBytes.number(ByteBuffer.wrap(bytes), bytes.length);
        }
        ByteBuffer stored = headers.attributeValue(address, name, (long) count * heap.referenceSize(), where);
        if (stored == null) {
            throw RechannelException.unsupported(where + ": a variable-length string kept outside its object header"
                    + " (dense attribute storage), which rechannel cannot check before reading");
        }
        heap.checkStrings(stored, count, where);
    }

    @Override
    public void close() {
        raw.close();
    }
}

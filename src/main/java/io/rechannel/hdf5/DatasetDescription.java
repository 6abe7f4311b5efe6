package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;
import org.bytedeco.javacpp.BytePointer;

import java.util.Arrays;

import static io.rechannel.hdf5.Hdf5Status.check;
import static org.bytedeco.hdf5.global.hdf5.*;

/**
 * What the library says of an open dataset, checked before anything is read from it: no storage outside
 * the file, no shape whose size overflows, no read of far more values than the file stores.
 */
final class DatasetDescription {

    /** Above this many declared bytes, a dataset must store at least 1/64 of them to be read. */
    private static final long SPARSE_READ_LIMIT = 1L << 30;

    private DatasetDescription() {
    }

    /**
     * Describes an open dataset; refuses storage outside the file (external raw data files, virtual
     * datasets mapping other files) and shapes whose size overflows.
     */
    static DatasetInfo describe(long did, String datasetPath, String label) {
        long space = H5Dget_space(did);
        long type = H5Dget_type(did);
        long plist = H5Dget_create_plist(did);
        try {
            int rank = H5Sget_simple_extent_ndims(space);
            long[] dims = new long[Math.max(rank, 0)];
            if (rank > 0) {
                H5Sget_simple_extent_dims(space, dims, (long[]) null);
            }
            int layout = H5Pget_layout(plist);
            if (layout == H5D_VIRTUAL) {
                throw RechannelException.unsupported(label + ": dataset " + datasetPath + " is a virtual dataset (its values"
                        + " come from other datasets or files); rechannel reads only data stored in the model's own file");
            }
            if (H5Pget_external_count(plist) != 0) {
                throw RechannelException.unsupported(label + ": dataset " + datasetPath + " keeps its values in external"
                        + " files; rechannel reads only data stored in the model's own file");
            }
            long[] chunk = null;
            if (layout == H5D_CHUNKED) {
                chunk = new long[rank];
                H5Pget_chunk(plist, rank, chunk);
            }
            int typeClass = H5Tget_class(type);
            long typeSize = H5Tget_size(type);
            checkSize(dims, typeSize, datasetPath, label);
            int[] status = new int[1];
            check(label, H5Dget_space_status(did, status), datasetPath, "read the allocation of");
            return new DatasetInfo(dims, typeClass, (int) typeSize, chunk, H5Dget_offset(did),
                    status[0] != H5D_SPACE_STATUS_NOT_ALLOCATED, H5Dget_storage_size(did), isVariableLength(type));
        } finally {
            H5Pclose(plist);
            H5Tclose(type);
            H5Sclose(space);
        }
    }

    /** True when values of the type refer to variable-length data in the global heap. */
    static boolean isVariableLength(long type) {
        int typeClass = H5Tget_class(type);
        return typeClass == H5T_VLEN || H5Tis_variable_str(type) > 0 || H5Tdetect_class(type, H5T_VLEN) > 0
                || (typeClass == H5T_COMPOUND || typeClass == H5T_ARRAY) && H5Tdetect_class(type, H5T_STRING) > 0;
    }

    private static void checkSize(long[] dims, long typeSize, String datasetPath, String label) {
        try {
            long bytes = typeSize;
            for (long d : dims) {
                if (d < 0) {
                    throw new ArithmeticException();
                }
                bytes = Math.multiplyExact(bytes, d);
            }
        } catch (ArithmeticException e) {
            throw RechannelException.malformed(label + ": dataset " + datasetPath + " declares the shape "
                    + Arrays.toString(dims) + ", whose size overflows (damaged file)");
        }
    }

    /**
     * Refuses to read a dataset that declares far more than it stores (sparse, or compressed beyond
     * anything real weights allow): the library would produce every declared value, and a damaged or
     * crafted shape can declare terabytes. Refuses variable-length values, whose references into the
     * global heap the library would follow unchecked.
     */
    static void checkReadable(DatasetInfo info, String datasetPath, String label) {
        if (info.variableLength()) {
            throw RechannelException.unsupported(label + ": dataset " + datasetPath + " holds variable-length values,"
                    + " which rechannel does not read");
        }
        long logical = info.logicalBytes();
        if (logical > SPARSE_READ_LIMIT && logical / 64 > info.storageBytes()) {
            throw RechannelException.unsupported(label + ": dataset " + datasetPath + " " + info.shapeText() + " declares "
                    + logical + " bytes but stores " + info.storageBytes() + "; rechannel does not read such sparse datasets");
        }
    }

    /**
     * The fill value of an open dataset, in its own element type, after one byte telling whether it is
     * undefined, the library's default or set by the writer.
     */
    static byte[] fillValue(long did, String datasetPath, String label) {
        long type = H5Dget_type(did);
        long plist = H5Dget_create_plist(did);
        try {
            if (isVariableLength(type)) {
                throw RechannelException.unsupported(label + ": dataset " + datasetPath + " holds variable-length values,"
                        + " which rechannel does not read");
            }
            int[] status = new int[1];
            check(label, H5Pfill_value_defined(plist, status), datasetPath, "read the fill value of");
            long size = H5Tget_size(type);
            byte[] value = new byte[1 + (status[0] == H5D_FILL_VALUE_UNDEFINED ? 0 : (int) size)];
            value[0] = (byte) status[0];
            if (value.length > 1) {
                try (BytePointer buffer = new BytePointer(size)) {
                    check(label, H5Pget_fill_value(plist, type, buffer), datasetPath, "read the fill value of");
                    buffer.get(value, 1, (int) size);
                }
            }
            return value;
        } finally {
            H5Pclose(plist);
            H5Tclose(type);
        }
    }
}

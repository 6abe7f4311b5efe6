package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;

import java.util.List;

import static io.rechannel.hdf5.Hdf5Status.check;
import static org.bytedeco.hdf5.global.hdf5.*;

/**
 * Replaces a dataset by one of a new shape with the same element type, storage settings and
 * attributes. HDF5 cannot resize a contiguous dataset, so the new one is written beside the old, which
 * is then unlinked and the new renamed.
 */
final class DatasetReplacement {

    private DatasetReplacement() {
    }

    /** Writes {@code values}, converted to the dataset's element type, as the new {@code datasetPath}. */
    static void replace(long fileId, long did, String datasetPath, long[] newShape, double[] values,
                        List<String> attributes, String label) {
        long type = H5Dget_type(did);
        long original = H5Dget_create_plist(did);
        long plist = H5Pcopy(original);
        H5Pclose(original);
        String temporary = datasetPath + ".rechannel-new";
        try {
            // no creation/modification times in the new object header: the same input and options give the same bytes
            H5Pset_obj_track_times(plist, false);
            if (H5Pget_layout(plist) == H5D_CHUNKED) {
                long[] chunk = new long[newShape.length];
                H5Pget_chunk(plist, newShape.length, chunk);
                for (int d = 0; d < chunk.length; d++) {
                    chunk[d] = Math.max(1, Math.min(chunk[d], newShape[d]));
                }
                H5Pset_chunk(plist, newShape.length, chunk);
            }
            long space = newShape.length == 0 ? H5Screate(H5S_SCALAR)
                    : H5Screate_simple(newShape.length, newShape, (long[]) null);
            long created = check(label, H5Dcreate2(fileId, temporary, type, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                    datasetPath, "create replacement");
            try (DoublePointer buffer = new DoublePointer(Math.max(1, values.length))) {
                buffer.put(values);
                check(label, H5Dwrite(created, H5T_NATIVE_DOUBLE_g(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer), datasetPath,
                        "write");
                for (String attribute : attributes) {
                    copyAttribute(did, created, attribute, datasetPath, label);
                }
            } finally {
                H5Dclose(created);
                H5Sclose(space);
            }
        } finally {
            H5Pclose(plist);
            H5Tclose(type);
        }
        check(label, H5Ldelete(fileId, datasetPath, H5P_DEFAULT), datasetPath, "unlink");
        check(label, H5Lmove(fileId, temporary, fileId, datasetPath, H5P_DEFAULT, H5P_DEFAULT), datasetPath,
                "rename replacement");
    }

    private static void copyAttribute(long from, long to, String name, String where, String label) {
        long aid = check(label, H5Aopen(from, name, H5P_DEFAULT), where + "@" + name, "open");
        long type = H5Aget_type(aid);
        long space = H5Aget_space(aid);
        try {
            if (DatasetDescription.isVariableLength(type)) {
                throw RechannelException.unsupported(label + ": dataset " + where + " has a variable-length attribute '"
                        + name + "', which rechannel cannot carry over");
            }
            long n = Math.max(1, H5Sget_simple_extent_npoints(space)) * H5Tget_size(type);
            long created = check(label, H5Acreate2(to, name, type, space, H5P_DEFAULT, H5P_DEFAULT), where + "@" + name,
                    "create");
            try (BytePointer buffer = new BytePointer(n)) {
                check(label, H5Aread(aid, type, buffer), where + "@" + name, "read");
                check(label, H5Awrite(created, type, buffer), where + "@" + name, "write");
            } finally {
                H5Aclose(created);
            }
        } finally {
            H5Sclose(space);
            H5Tclose(type);
            H5Aclose(aid);
        }
    }
}

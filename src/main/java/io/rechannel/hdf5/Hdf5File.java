package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;
import org.bytedeco.hdf5.H5G_info_t;
import org.bytedeco.hdf5.H5O_info2_t;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.bytedeco.hdf5.global.hdf5.*;

/**
 * A small, safe view of an HDF5 file through the HDF Group's C library: groups, string attributes as
 * Keras writes them (variable-length or fixed-length, scalar or lists), and numeric datasets. Paths
 * are absolute within the file ({@code /model_weights/block1_conv1}). Every failure becomes a
 * {@link RechannelException} naming the file and the object.
 */
public final class Hdf5File implements AutoCloseable {

    static {
        Hdf5Library.await();
    }

    private final Path path;
    private long fileId;

    /** Loads the native library now (or waits for {@link Hdf5Library#loadInBackground}'s thread loading it). */
    public static void preload() {
        // the static initialiser above does the work
    }

    private Hdf5File(Path path, long fileId) {
        this.path = path;
        this.fileId = fileId;
    }

    /** Opens an existing HDF5 file; fails with a one-line error when it is missing or not HDF5. */
    public static Hdf5File open(Path path, boolean writable) {
        if (!Files.isRegularFile(path)) {
            throw new RechannelException(RechannelException.Kind.IO, path + ": no such file");
        }
        if (!Files.isReadable(path)) {
            throw new RechannelException(RechannelException.Kind.IO, path + ": not readable");
        }
        String name = path.toAbsolutePath().toString();
        if (H5Fis_accessible(name, H5P_DEFAULT) <= 0) {
            throw RechannelException.malformed(path + ": not an HDF5 file (or a damaged or truncated one)");
        }
        long id = H5Fopen(name, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
        if (id < 0) {
            throw RechannelException.malformed(path + ": the HDF5 library cannot open it (damaged or truncated?)");
        }
        return new Hdf5File(path, id);
    }

    public Path path() {
        return path;
    }

    /** True when every component of {@code objectPath} exists. */
    public boolean exists(String objectPath) {
        if (objectPath.equals("/")) {
            return true;
        }
        StringBuilder prefix = new StringBuilder();
        for (String part : objectPath.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            prefix.append('/').append(part);
            if (H5Lexists(fileId, prefix.toString(), H5P_DEFAULT) <= 0) {
                return false;
            }
        }
        return true;
    }

    public boolean isGroup(String objectPath) {
        return exists(objectPath) && objectType(objectPath) == H5O_TYPE_GROUP;
    }

    public boolean isDataset(String objectPath) {
        return exists(objectPath) && objectType(objectPath) == H5O_TYPE_DATASET;
    }

    private int objectType(String objectPath) {
        try (H5O_info2_t info = new H5O_info2_t()) {
            check(H5Oget_info_by_name3(fileId, objectPath, info, H5O_INFO_BASIC, H5P_DEFAULT), objectPath, "read object info");
            return info.type();
        }
    }

    /** Names of the links in a group, in name order. */
    public List<String> children(String group) {
        long gid = check(H5Gopen2(fileId, group, H5P_DEFAULT), group, "open group");
        try (H5G_info_t info = new H5G_info_t()) {
            check(H5Gget_info(gid, info), group, "read group info");
            List<String> names = new ArrayList<>();
            for (long i = 0; i < info.nlinks(); i++) {
                long size = H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, i, (byte[]) null, 0, H5P_DEFAULT);
                byte[] buf = new byte[(int) check(size, group, "read link name") + 1];
                H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, i, buf, buf.length, H5P_DEFAULT);
                names.add(new String(buf, 0, (int) size, StandardCharsets.UTF_8));
            }
            return names;
        } finally {
            H5Gclose(gid);
        }
    }

    /** Names of an object's attributes, in name order. */
    public List<String> attributeNames(String objectPath) {
        try (H5O_info2_t info = new H5O_info2_t()) {
            check(H5Oget_info_by_name3(fileId, objectPath, info, H5O_INFO_NUM_ATTRS, H5P_DEFAULT), objectPath,
                    "read attributes");
            List<String> names = new ArrayList<>();
            for (long i = 0; i < info.num_attrs(); i++) {
                long size = H5Aget_name_by_idx(fileId, objectPath, H5_INDEX_NAME, H5_ITER_INC, i, (byte[]) null, 0,
                        H5P_DEFAULT);
                byte[] buf = new byte[(int) check(size, objectPath, "read attribute name") + 1];
                H5Aget_name_by_idx(fileId, objectPath, H5_INDEX_NAME, H5_ITER_INC, i, buf, buf.length, H5P_DEFAULT);
                names.add(new String(buf, 0, (int) size, StandardCharsets.UTF_8));
            }
            return names;
        }
    }

    public boolean hasAttribute(String objectPath, String name) {
        return exists(objectPath) && H5Aexists_by_name(fileId, objectPath, name, H5P_DEFAULT) > 0;
    }

    /**
     * Reads a string attribute as a list: one element for a scalar, all for a 1-D array. Keras writes
     * an empty name list as an empty float64 array, which reads as an empty list. Empty when the
     * attribute is missing or holds something else.
     */
    public Optional<List<String>> readStrings(String objectPath, String name) {
        if (!hasAttribute(objectPath, name)) {
            return Optional.empty();
        }
        return StringAttributes.read(fileId, objectPath, name, path);
    }

    /** Reads a scalar (or first) string attribute. */
    public Optional<String> readString(String objectPath, String name) {
        return readStrings(objectPath, name).filter(l -> !l.isEmpty()).map(l -> l.get(0));
    }

    /**
     * Replaces the value of a scalar string attribute, keeping its kind: a variable-length string is
     * rewritten in place; a fixed-length one is recreated with the size the new value needs.
     */
    public void writeString(String objectPath, String name, String value) {
        StringAttributes.write(fileId, objectPath, name, value, path);
    }

    /** Shape, element type and storage of a dataset. */
    public DatasetInfo dataset(String datasetPath) {
        long did = check(H5Dopen2(fileId, datasetPath, H5P_DEFAULT), datasetPath, "open dataset");
        try {
            return describe(did);
        } finally {
            H5Dclose(did);
        }
    }

    private static DatasetInfo describe(long did) {
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
            long[] chunk = null;
            if (layout == H5D_CHUNKED) {
                chunk = new long[rank];
                H5Pget_chunk(plist, rank, chunk);
            }
            return new DatasetInfo(dims, H5Tget_class(type), (int) H5Tget_size(type), chunk, H5Dget_offset(did));
        } finally {
            H5Pclose(plist);
            H5Tclose(type);
            H5Sclose(space);
        }
    }

    /** Reads a numeric dataset converted to double (exact for float16/32/64 and common integers). */
    public double[] readDoubles(String datasetPath) {
        long did = check(H5Dopen2(fileId, datasetPath, H5P_DEFAULT), datasetPath, "open dataset");
        try {
            DatasetInfo info = describe(did);
            if (info.typeClass() != H5T_FLOAT && info.typeClass() != H5T_INTEGER) {
                throw RechannelException.unsupported(path + ": dataset " + datasetPath + " is not numeric");
            }
            long n = info.elementCount();
            if (n > Integer.MAX_VALUE - 16) {
                throw RechannelException.unsupported(path + ": dataset " + datasetPath + " is too large to adapt in memory");
            }
            try (DoublePointer buffer = new DoublePointer(Math.max(1, n))) {
                check(H5Dread(did, H5T_NATIVE_DOUBLE_g(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer), datasetPath, "read");
                double[] values = new double[(int) n];
                buffer.get(values);
                return values;
            }
        } finally {
            H5Dclose(did);
        }
    }

    /**
     * Reads the stored bytes (in the file's element type) of rows {@code [start, start + count)} along
     * the first axis; a scalar dataset has one row. Reading in slabs keeps memory bounded.
     */
    public byte[] readRows(String datasetPath, long start, long count) {
        long did = check(H5Dopen2(fileId, datasetPath, H5P_DEFAULT), datasetPath, "open dataset");
        long type = H5Dget_type(did);
        long fileSpace = H5Dget_space(did);
        try {
            DatasetInfo info = describe(did);
            long[] dims = info.shape();
            long rowBytes = dims.length == 0 ? info.typeSize() : info.elementCount() / Math.max(1, dims[0]) * info.typeSize();
            byte[] bytes = new byte[Math.toIntExact(count * rowBytes)];
            if (bytes.length == 0) {
                return bytes;
            }
            long memSpace = H5S_ALL;
            if (dims.length > 0 && (start != 0 || count != dims[0])) {
                long[] offset = new long[dims.length];
                long[] extent = dims.clone();
                offset[0] = start;
                extent[0] = count;
                check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, offset, null, extent, (long[]) null), datasetPath, "select");
                memSpace = H5Screate_simple(dims.length, extent, (long[]) null);
            }
            try (BytePointer buffer = new BytePointer(bytes.length)) {
                check(H5Dread(did, type, memSpace, memSpace == H5S_ALL ? H5S_ALL : fileSpace, H5P_DEFAULT, buffer),
                        datasetPath, "read");
                buffer.get(bytes);
            } finally {
                if (memSpace != H5S_ALL) {
                    H5Sclose(memSpace);
                }
            }
            return bytes;
        } finally {
            H5Sclose(fileSpace);
            H5Tclose(type);
            H5Dclose(did);
        }
    }

    /**
     * Replaces a dataset by one of a new shape with the same element type, storage settings and
     * attributes, holding {@code values} converted to that type. HDF5 cannot resize a contiguous
     * dataset, so the new one is written beside the old, which is then unlinked and the new renamed.
     */
    public void replaceDataset(String datasetPath, long[] newShape, double[] values) {
        long did = check(H5Dopen2(fileId, datasetPath, H5P_DEFAULT), datasetPath, "open dataset");
        long type = H5Dget_type(did);
        long plist = H5Pcopy(H5Dget_create_plist(did));
        List<String> attributes = attributeNames(datasetPath);
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
            long created = check(H5Dcreate2(fileId, temporary, type, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                    datasetPath, "create replacement");
            try (DoublePointer buffer = new DoublePointer(Math.max(1, values.length))) {
                buffer.put(values);
                check(H5Dwrite(created, H5T_NATIVE_DOUBLE_g(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer), datasetPath, "write");
                for (String attribute : attributes) {
                    copyAttribute(did, created, attribute, datasetPath);
                }
            } finally {
                H5Dclose(created);
                H5Sclose(space);
            }
        } finally {
            H5Pclose(plist);
            H5Tclose(type);
            H5Dclose(did);
        }
        check(H5Ldelete(fileId, datasetPath, H5P_DEFAULT), datasetPath, "unlink");
        check(H5Lmove(fileId, temporary, fileId, datasetPath, H5P_DEFAULT, H5P_DEFAULT), datasetPath, "rename replacement");
    }

    private void copyAttribute(long from, long to, String name, String where) {
        long aid = H5Aopen(from, name, H5P_DEFAULT);
        long type = H5Aget_type(aid);
        long space = H5Aget_space(aid);
        try {
            if (H5Tis_variable_str(type) > 0 || H5Tget_class(type) == H5T_VLEN) {
                throw RechannelException.unsupported(path + ": dataset " + where + " has a variable-length attribute '"
                        + name + "', which rechannel cannot carry over");
            }
            long n = Math.max(1, H5Sget_simple_extent_npoints(space)) * H5Tget_size(type);
            long created = H5Acreate2(to, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
            try (BytePointer buffer = new BytePointer(n)) {
                check(H5Aread(aid, type, buffer), where + "@" + name, "read");
                check(H5Awrite(created, type, buffer), where + "@" + name, "write");
            } finally {
                H5Aclose(created);
            }
        } finally {
            H5Sclose(space);
            H5Tclose(type);
            H5Aclose(aid);
        }
    }

    /** Paths of every dataset under a group, depth first in name order. */
    public List<String> datasets(String group) {
        List<String> found = new ArrayList<>();
        for (String child : children(group)) {
            String childPath = (group.endsWith("/") ? group : group + "/") + child;
            if (isGroup(childPath)) {
                found.addAll(datasets(childPath));
            } else if (isDataset(childPath)) {
                found.add(childPath);
            }
        }
        return found;
    }

    /** Unlinks an object (a group with everything under it). */
    public void delete(String objectPath) {
        check(H5Ldelete(fileId, objectPath, H5P_DEFAULT), objectPath, "delete");
    }

    /** Writes everything to disk. */
    public void flush() {
        check(H5Fflush(fileId, H5F_SCOPE_GLOBAL), "/", "flush");
    }

    @Override
    public void close() {
        if (fileId >= 0) {
            int status = H5Fclose(fileId);
            fileId = -1;
            if (status < 0) {
                throw RechannelException.malformed(path + ": closing the file failed");
            }
        }
    }

    private long check(long status, String object, String action) {
        if (status < 0) {
            throw RechannelException.malformed(path + ": cannot " + action + " " + object + " (damaged or unexpected file)");
        }
        return status;
    }
}

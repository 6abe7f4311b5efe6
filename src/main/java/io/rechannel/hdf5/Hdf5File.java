package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;
import org.bytedeco.hdf5.H5G_info_t;
import org.bytedeco.hdf5.H5O_info2_t;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
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
    private final String label;
    private long fileId;
    private final LinkCheck links;
    private StoredValues storedValues;

    /** Loads the native library now (or waits for {@link Hdf5Library#loadInBackground}'s thread loading it). */
    public static void preload() {
        // the static initialiser above does the work
    }

    private Hdf5File(Path path, String label, long fileId) {
        this.path = path;
        this.label = label;
        this.fileId = fileId;
        this.links = new LinkCheck(fileId, label);
    }

    /** Opens an existing HDF5 file; fails with a one-line error when it is missing or not HDF5. */
    public static Hdf5File open(Path path, boolean writable) {
        return open(path, writable, path.toString());
    }

    /**
     * Opens an existing HDF5 file whose messages name it {@code label} (for a scratch copy of an archive
     * entry: the archive and the entry).
     */
    public static Hdf5File open(Path path, boolean writable, String label) {
        if (!Files.isRegularFile(path)) {
            throw new RechannelException(RechannelException.Kind.IO, label + ": no such file");
        }
        if (!Files.isReadable(path)) {
            throw new RechannelException(RechannelException.Kind.IO, label + ": not readable");
        }
        String name = path.toAbsolutePath().toString();
        if (H5Fis_accessible(name, H5P_DEFAULT) <= 0) {
            throw RechannelException.malformed(label + ": not an HDF5 file (or a damaged or truncated one)");
        }
        long id = H5Fopen(name, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
        if (id < 0) {
            throw RechannelException.malformed(label + ": the HDF5 library cannot open it (damaged or truncated?)");
        }
        return new Hdf5File(path, label, id);
    }

    public Path path() {
        return path;
    }

    /** Links were added, moved or removed: what the link check knew is out of date. */
    void linksChanged() {
        links.reset();
    }

    /** The name messages give the file. */
    public String label() {
        return label;
    }

    /**
     * True when every component of {@code objectPath} exists. An external or user-defined link on the way
     * is refused (unsupported), a dangling soft link reported as damage: see {@link LinkCheck}.
     */
    public boolean exists(String objectPath) {
        return links.walk(objectPath);
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
        exists(group);
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
        exists(objectPath);
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
        return StringAttributes.read(fileId, objectPath, name, label, count -> storedValues().checkStringAttribute(objectPath, name, count));
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
        exists(objectPath);
        StringAttributes.write(fileId, objectPath, name, value, label, count -> {
            // the library frees the old value on rewriting: its reference is checked as stored on disk
            check(H5Fflush(fileId, H5F_SCOPE_LOCAL), "/", "flush");
            storedValues().checkStringAttribute(objectPath, name, count);
        });
    }

    private StoredValues storedValues() {
        if (storedValues == null) {
            storedValues = StoredValues.of(fileId, path, label);
        }
        return storedValues;
    }

    /** Shape, element type and storage of a dataset. */
    public DatasetInfo dataset(String datasetPath) {
        long did = openDataset(datasetPath);
        try {
            return describe(did, datasetPath);
        } finally {
            H5Dclose(did);
        }
    }

    private long openDataset(String datasetPath) {
        exists(datasetPath);
        return check(H5Dopen2(fileId, datasetPath, H5P_DEFAULT), datasetPath, "open dataset");
    }

    private DatasetInfo describe(long did, String datasetPath) {
        return DatasetDescription.describe(did, datasetPath, label);
    }

    /**
     * The fill value of a dataset, in its own element type, after one byte telling whether it is
     * undefined, the library's default or set by the writer: what every element of a dataset without
     * allocated storage holds.
     */
    public byte[] fillValue(String datasetPath) {
        long did = openDataset(datasetPath);
        try {
            return DatasetDescription.fillValue(did, datasetPath, label);
        } finally {
            H5Dclose(did);
        }
    }

    /** Reads a numeric dataset converted to double (exact for float16/32/64 and common integers). */
    public double[] readDoubles(String datasetPath) {
        long did = openDataset(datasetPath);
        try {
            DatasetInfo info = describe(did, datasetPath);
            if (info.typeClass() != H5T_FLOAT && info.typeClass() != H5T_INTEGER) {
                throw RechannelException.unsupported(label + ": dataset " + datasetPath + " is not numeric");
            }
            long n = info.elementCount();
            DatasetDescription.checkReadable(info, datasetPath, label);
            if (n > Integer.MAX_VALUE - 16 || n * Double.BYTES > Runtime.getRuntime().maxMemory() / 2) {
                throw RechannelException.unsupported(label + ": dataset " + datasetPath + " " + info.shapeText()
                        + " is too large to adapt in the memory given to rechannel");
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
        long did = openDataset(datasetPath);
        long type = H5Dget_type(did);
        long fileSpace = H5Dget_space(did);
        try {
            DatasetInfo info = describe(did, datasetPath);
            DatasetDescription.checkReadable(info, datasetPath, label);
            long[] dims = info.shape();
            long rowBytes = dims.length == 0 ? info.typeSize() : info.elementCount() / Math.max(1, dims[0]) * info.typeSize();
            if (count * rowBytes > Integer.MAX_VALUE - 16) {
                throw RechannelException.unsupported(label + ": dataset " + datasetPath + " " + info.shapeText()
                        + " has rows too large to read in slabs");
            }
            byte[] bytes = new byte[(int) (count * rowBytes)];
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
     * attributes, holding {@code values} converted to that type (see {@link DatasetBlocks.Replacement}).
     */
    public void replaceDataset(String datasetPath, long[] newShape, double[] values) {
        try (DatasetBlocks.Replacement replacement = DatasetBlocks.Replacement.begin(this, datasetPath, newShape)) {
            replacement.write(io.rechannel.core.Hyperslab.whole(newShape), values);
            replacement.commit();
        }
    }

    /**
     * Paths of every dataset under a group, depth first in name order. Each object is visited once, by
     * the first path that reaches it, so that links forming a cycle (a group linked inside itself) end.
     */
    public List<String> datasets(String group) {
        List<String> found = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Deque<String> pending = new ArrayDeque<>();
        pending.push(group);
        while (!pending.isEmpty()) {
            String at = pending.pop();
            if (!exists(at)) {
                continue;
            }
            try (H5O_info2_t info = new H5O_info2_t()) {
                check(H5Oget_info_by_name3(fileId, at, info, H5O_INFO_BASIC, H5P_DEFAULT), at, "read object info");
                byte[] token = new byte[16];
                info.token().__data().get(token);
                if (!seen.add(HexFormat.of().formatHex(token))) {
                    continue;
                }
                if (info.type() == H5O_TYPE_DATASET) {
                    found.add(at);
                } else if (info.type() == H5O_TYPE_GROUP) {
                    List<String> children = children(at);
                    for (int i = children.size() - 1; i >= 0; i--) {
                        pending.push((at.endsWith("/") ? at : at + "/") + children.get(i));
                    }
                }
            }
        }
        return found;
    }

    /** Unlinks an object (a group with everything under it). */
    public void delete(String objectPath) {
        exists(objectPath);
        links.reset();
        check(H5Ldelete(fileId, objectPath, H5P_DEFAULT), objectPath, "delete");
    }

    /** Writes everything to disk. */
    public void flush() {
        check(H5Fflush(fileId, H5F_SCOPE_GLOBAL), "/", "flush");
    }

    @Override
    public void close() {
        if (storedValues != null) {
            storedValues.close();
            storedValues = null;
        }
        if (fileId >= 0) {
            int status = H5Fclose(fileId);
            fileId = -1;
            if (status < 0) {
                throw RechannelException.malformed(label + ": closing the file failed");
            }
        }
    }

    /** The library's identifier of the open file, for the other classes of this package. */
    long id() {
        return fileId;
    }

    long check(long status, String object, String action) {
        return Hdf5Status.check(label, status, object, action);
    }
}

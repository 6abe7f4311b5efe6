package io.rechannel.hdf5;

import io.rechannel.core.ElementType;
import io.rechannel.core.Hyperslab;
import io.rechannel.core.RechannelException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;

import static org.bytedeco.hdf5.global.hdf5.*;

/**
 * Numeric datasets read and written a block at a time: each block is a hyperslab, converted to and
 * from double by the HDF5 library, so that no dataset is ever held whole in memory.
 */
public final class DatasetBlocks {

    private DatasetBlocks() {
    }

    /** The element type of a numeric dataset; anything else is unsupported (exit 5). */
    public static ElementType elementType(Hdf5File file, String datasetPath) {
        long did = file.check(H5Dopen2(file.id(), datasetPath, H5P_DEFAULT), datasetPath, "open dataset");
        long type = H5Dget_type(did);
        try {
            int size = (int) H5Tget_size(type);
            int typeClass = H5Tget_class(type);
            if (typeClass == H5T_INTEGER && (size == 1 || size == 2 || size == 4 || size == 8)) {
                return ElementType.integer(size * 8, H5Tget_sign(type) == H5T_SGN_2);
            }
            if (typeClass == H5T_FLOAT) {
                // IEEE half, single and double precision by their exponent bias (bfloat16 has 127 in 2 bytes)
                long bias = H5Tget_ebias(type);
                if (size == 2 && bias == 15) {
                    return ElementType.FLOAT16;
                }
                if (size == 4 && bias == 127) {
                    return ElementType.FLOAT32;
                }
                if (size == 8 && bias == 1023) {
                    return ElementType.FLOAT64;
                }
            }
            throw RechannelException.unsupported(file.label() + ": dataset " + datasetPath + " has an element type ("
                    + (typeClass == H5T_FLOAT ? "float" : typeClass == H5T_INTEGER ? "integer" : "class " + typeClass)
                    + " of " + size + " bytes) that rechannel does not adapt");
        } finally {
            H5Tclose(type);
            H5Dclose(did);
        }
    }

    /** Reads the selected elements of a numeric dataset, in row-major order, converted to double. */
    public static void read(Hdf5File file, String datasetPath, Hyperslab slab, double[] into) {
        long did = file.check(H5Dopen2(file.id(), datasetPath, H5P_DEFAULT), datasetPath, "open dataset");
        try {
            transfer(file, did, datasetPath, slab, into, false);
        } finally {
            H5Dclose(did);
        }
    }

    /** One hyperslab between a dataset and doubles in memory; a scalar dataset is a shape of [1]. */
    private static void transfer(Hdf5File file, long did, String datasetPath, Hyperslab slab, double[] values,
                                 boolean write) {
        long fileSpace = H5Dget_space(did);
        long memSpace = -1;
        try {
            int rank = H5Sget_simple_extent_ndims(fileSpace);
            long n = slab.size();
            if (values.length < n) {
                throw new IllegalArgumentException("buffer of " + values.length + " for " + n + " values");
            }
            if (rank > 0) {
                if (slab.rank() != rank) {
                    throw new IllegalArgumentException("hyperslab of rank " + slab.rank() + " on dataset of rank " + rank);
                }
                file.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, slab.start(), slab.stride(), slab.count(),
                        slab.block()), datasetPath, "select a block of");
            }
            memSpace = H5Screate_simple(1, new long[] {n}, (long[]) null);
            long selection = rank > 0 ? fileSpace : H5S_ALL;
            long memory = rank > 0 ? memSpace : H5S_ALL;
            try (DoublePointer buffer = new DoublePointer(n)) {
                if (write) {
                    buffer.put(values, 0, Math.toIntExact(n));
                    file.check(H5Dwrite(did, H5T_NATIVE_DOUBLE_g(), memory, selection, H5P_DEFAULT, buffer), datasetPath,
                            "write");
                } else {
                    file.check(H5Dread(did, H5T_NATIVE_DOUBLE_g(), memory, selection, H5P_DEFAULT, buffer), datasetPath,
                            "read");
                    buffer.get(values, 0, Math.toIntExact(n));
                }
            }
        } finally {
            if (memSpace >= 0) {
                H5Sclose(memSpace);
            }
            H5Sclose(fileSpace);
        }
    }

    /**
     * A dataset being replaced by one of a new shape with the same element type, storage settings and
     * attributes. HDF5 cannot resize a contiguous dataset, so the new one is written beside the old
     * (block by block) and, on {@link #commit}, takes its name; closed without commit, it is removed.
     */
    public static final class Replacement implements AutoCloseable {

        private final Hdf5File file;
        private final String datasetPath;
        private final String temporary;
        private final long old;
        private long created = -1;
        private boolean done;

        private Replacement(Hdf5File file, String datasetPath) {
            this.file = file;
            this.datasetPath = datasetPath;
            this.temporary = datasetPath + ".rechannel-new";
            this.old = file.check(H5Dopen2(file.id(), datasetPath, H5P_DEFAULT), datasetPath, "open dataset");
        }

        public static Replacement begin(Hdf5File file, String datasetPath, long[] newShape) {
            Replacement replacement = new Replacement(file, datasetPath);
            try {
                replacement.create(newShape);
                return replacement;
            } catch (RuntimeException e) {
                replacement.close();
                throw e;
            }
        }

        private void create(long[] newShape) {
            long type = H5Dget_type(old);
            long plist = H5Pcopy(H5Dget_create_plist(old));
            long space = newShape.length == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(newShape.length, newShape, (long[]) null);
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
                created = file.check(H5Dcreate2(file.id(), temporary, type, space, H5P_DEFAULT, plist, H5P_DEFAULT),
                        datasetPath, "create replacement");
            } finally {
                H5Sclose(space);
                H5Pclose(plist);
                H5Tclose(type);
            }
        }

        /** Writes a block of the new dataset. */
        public void write(Hyperslab slab, double[] values) {
            transfer(file, created, datasetPath, slab, values, true);
        }

        /** Carries the attributes over and puts the new dataset in the old one's place. */
        public void commit() {
            for (String attribute : file.attributeNames(datasetPath)) {
                copyAttribute(attribute);
            }
            H5Dclose(created);
            created = -1;
            H5Dclose(old);
            done = true;
            file.linksChanged();
            file.check(H5Ldelete(file.id(), datasetPath, H5P_DEFAULT), datasetPath, "unlink");
            file.check(H5Lmove(file.id(), temporary, file.id(), datasetPath, H5P_DEFAULT, H5P_DEFAULT), datasetPath,
                    "rename replacement");
        }

        private void copyAttribute(String name) {
            long aid = H5Aopen(old, name, H5P_DEFAULT);
            long type = H5Aget_type(aid);
            long space = H5Aget_space(aid);
            try {
                if (H5Tis_variable_str(type) > 0 || H5Tget_class(type) == H5T_VLEN) {
                    throw RechannelException.unsupported(file.label() + ": dataset " + datasetPath
                            + " has a variable-length attribute '" + name + "', which rechannel cannot carry over");
                }
                long n = Math.max(1, H5Sget_simple_extent_npoints(space)) * H5Tget_size(type);
                long copy = H5Acreate2(created, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
                try (BytePointer buffer = new BytePointer(n)) {
                    file.check(H5Aread(aid, type, buffer), datasetPath + "@" + name, "read");
                    file.check(H5Awrite(copy, type, buffer), datasetPath + "@" + name, "write");
                } finally {
                    H5Aclose(copy);
                }
            } finally {
                H5Sclose(space);
                H5Tclose(type);
                H5Aclose(aid);
            }
        }

        @Override
        public void close() {
            if (done) {
                return;
            }
            done = true;
            if (created >= 0) {
                H5Dclose(created);
                H5Ldelete(file.id(), temporary, H5P_DEFAULT);
            }
            H5Dclose(old);
        }
    }
}

package io.rechannel.hdf5;

import io.rechannel.core.RechannelException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntConsumer;

import static io.rechannel.hdf5.Hdf5Status.check;
import static org.bytedeco.hdf5.global.hdf5.*;

/**
 * String attributes as Keras writes them: variable-length (Keras 3, tf.keras 2.5+) or fixed-length
 * (Keras 1 to 2.4) strings, scalars or lists, in ASCII or UTF-8; the kind is kept when rewriting.
 */
final class StringAttributes {

    /** More values than any name list Keras writes (its lists are split to fit 64 KiB object headers). */
    private static final long MAX_VALUES = 1 << 20;

    private StringAttributes() {
    }

    /**
     * Reads a string attribute as a list: one element for a scalar, all for a 1-D array. Keras writes
     * an empty name list as an empty float64 array, which reads as an empty list. Empty when the
     * attribute is missing or holds something else.
     */
    static Optional<List<String>> read(long fileId, String objectPath, String name, String path,
                                       IntConsumer checkVariable) {
        long aid = check(path, H5Aopen_by_name(fileId, objectPath, name, H5P_DEFAULT, H5P_DEFAULT), objectPath, "open attribute " + name);
        long type = H5Aget_type(aid);
        long space = H5Aget_space(aid);
        try {
            long count = H5Sget_simple_extent_npoints(space);
            int typeClass = H5Tget_class(type);
            if (typeClass != H5T_STRING) {
                return count == 0 ? Optional.of(List.of()) : Optional.empty();
            }
            if (count < 0 || count > MAX_VALUES) {
                throw RechannelException.malformed(path + ": attribute " + objectPath + "@" + name + " claims " + count
                        + " values (damaged file)");
            }
            if (H5Tis_variable_str(type) > 0) {
                checkVariable.accept((int) count);
            }
            return Optional.of(readStringValues(aid, type, (int) count, objectPath + "@" + name, path));
        } finally {
            H5Sclose(space);
            H5Tclose(type);
            H5Aclose(aid);
        }
    }


    private static List<String> readStringValues(long aid, long fileType, int count, String where, String path) {
        List<String> values = new ArrayList<>(count);
        if (H5Tis_variable_str(fileType) > 0) {
            long memType = variableStringType(H5Tget_cset(fileType));
            long space = H5Aget_space(aid);
            try (PointerPointer<BytePointer> pointers = new PointerPointer<>(count)) {
                check(path, H5Aread(aid, memType, pointers), where, "read");
                for (int i = 0; i < count; i++) {
                    BytePointer p = pointers.get(BytePointer.class, i);
                    values.add(p == null || p.isNull() ? "" : p.getString(StandardCharsets.UTF_8));
                }
                H5Treclaim(memType, space, H5P_DEFAULT, pointers);
            } finally {
                H5Sclose(space);
                H5Tclose(memType);
            }
        } else {
            long size = H5Tget_size(fileType);
            if (size * count > GlobalHeapCheck.MAX_STRING_BYTES) {
                throw RechannelException.unsupported(path + ": attribute " + where + " holds " + size * count
                        + " bytes of strings, over rechannel's limit of " + (GlobalHeapCheck.MAX_STRING_BYTES >> 20) + " MiB");
            }
            byte[] raw = new byte[(int) (size * count)];
            try (BytePointer buffer = new BytePointer(raw.length)) {
                check(path, H5Aread(aid, fileType, buffer), where, "read");
                buffer.get(raw);
            }
            int width = (int) size;
            for (int i = 0; i < count; i++) {
                int end = i * width;
                while (end < (i + 1) * width && raw[end] != 0) {
                    end++;
                }
                values.add(new String(raw, i * width, end - i * width, StandardCharsets.UTF_8));
            }
        }
        return values;
    }

    /**
     * Replaces the value of a scalar string attribute, keeping its kind: a variable-length string is
     * rewritten in place; a fixed-length one is recreated with the size the new value needs.
     */
    static void write(long fileId, String objectPath, String name, String value, String path, IntConsumer checkVariable) {
        long aid = check(path, H5Aopen_by_name(fileId, objectPath, name, H5P_DEFAULT, H5P_DEFAULT), objectPath, "open attribute " + name);
        long type = H5Aget_type(aid);
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        try {
            if (H5Tis_variable_str(type) > 0) {
                long space = H5Aget_space(aid);
                long count = H5Sget_simple_extent_npoints(space);
                H5Sclose(space);
                checkVariable.accept((int) Math.max(1, Math.min(count, MAX_VALUES)));
                long memType = variableStringType(H5Tget_cset(type));
                try (BytePointer text = new BytePointer(bytes.length + 1);
                     PointerPointer<BytePointer> pointers = new PointerPointer<>(1)) {
                    text.put(bytes).put(bytes.length, (byte) 0);
                    pointers.put(0, text);
                    check(path, H5Awrite(aid, memType, pointers), objectPath + "@" + name, "write");
                } finally {
                    H5Tclose(memType);
                }
                return;
            }
            int cset = H5Tget_cset(type);
            int pad = H5Tget_strpad(type);
            H5Aclose(aid);
            aid = -1;
            check(path, H5Adelete_by_name(fileId, objectPath, name, H5P_DEFAULT), objectPath, "replace attribute " + name);
            long fixed = H5Tcopy(H5T_C_S1_g());
            H5Tset_size(fixed, Math.max(1, bytes.length));
            H5Tset_cset(fixed, cset);
            H5Tset_strpad(fixed, pad);
            long space = H5Screate(H5S_SCALAR);
            long created = check(path, H5Acreate_by_name(fileId, objectPath, name, fixed, space, H5P_DEFAULT, H5P_DEFAULT,
                    H5P_DEFAULT), objectPath, "create attribute " + name);
            try (BytePointer text = new BytePointer(Math.max(1, bytes.length))) {
                text.put(bytes);
                check(path, H5Awrite(created, fixed, text), objectPath + "@" + name, "write");
            } finally {
                H5Aclose(created);
                H5Sclose(space);
                H5Tclose(fixed);
            }
        } finally {
            H5Tclose(type);
            if (aid >= 0) {
                H5Aclose(aid);
            }
        }
    }

    private static long variableStringType(int cset) {
        long memType = H5Tcopy(H5T_C_S1_g());
        H5Tset_size(memType, H5T_VARIABLE());
        H5Tset_cset(memType, cset);
        return memType;
    }
}

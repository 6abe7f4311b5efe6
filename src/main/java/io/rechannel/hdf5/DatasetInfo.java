package io.rechannel.hdf5;

import java.util.Arrays;

/**
 * What rechannel needs to know of a dataset.
 *
 * @param shape      dimensions (empty for a scalar)
 * @param typeClass  the HDF5 type class (float, integer, string, ...)
 * @param typeSize   bytes per element
 * @param chunk      chunk dimensions, or null when not chunked
 * @param fileOffset where a contiguous dataset's bytes start in the file, or -1 (HADDR_UNDEF) otherwise
 */
public record DatasetInfo(long[] shape, int typeClass, int typeSize, long[] chunk, long fileOffset) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public String shapeText() {
        return Arrays.toString(shape);
    }
}

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
        return io.rechannel.core.Shapes.count(shape);
    }

    public String shapeText() {
        return Arrays.toString(shape);
    }
}

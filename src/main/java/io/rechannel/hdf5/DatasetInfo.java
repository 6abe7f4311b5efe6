package io.rechannel.hdf5;

import java.util.Arrays;

/**
 * What rechannel needs to know of a dataset.
 *
 * @param shape          dimensions (empty for a scalar)
 * @param typeClass      the HDF5 type class (float, integer, string, ...)
 * @param typeSize       bytes per element
 * @param chunk          chunk dimensions, or null when not chunked
 * @param fileOffset     where a contiguous dataset's bytes start in the file, or -1 (HADDR_UNDEF) otherwise
 * @param allocated      false when no storage was ever allocated: every element is the fill value
 * @param storageBytes   the bytes allocated in the file for its values
 * @param variableLength true when its elements refer to variable-length values elsewhere in the file
 */
public record DatasetInfo(long[] shape, int typeClass, int typeSize, long[] chunk, long fileOffset, boolean allocated,
                          long storageBytes, boolean variableLength) {

    public long elementCount() {
        return io.rechannel.core.Shapes.count(shape);
    }

    /** The size of its values in memory (the shape's size was checked not to overflow). */
    public long logicalBytes() {
        return elementCount() * typeSize;
    }

    public String shapeText() {
        return Arrays.toString(shape);
    }
}

package io.rechannel.keras;

import io.rechannel.format.Progress;
import io.rechannel.hdf5.DatasetInfo;
import io.rechannel.hdf5.Hdf5File;
import io.rechannel.pipeline.StoredTensors;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Every dataset of a Keras HDF5 weights file, compared with another's by its rows, a slab at a time. */
final class KerasStoredTensors implements StoredTensors {

    private static final long SLAB_BYTES = 16L << 20;

    private final Hdf5File file;
    private final KerasWeightStore store;
    private List<String> names;
    private Set<String> present;

    KerasStoredTensors(Hdf5File file, KerasWeightStore store) {
        this.file = file;
        this.store = store;
    }

    @Override
    public List<String> names() {
        if (names == null) {
            names = file.datasets("/");
        }
        return names;
    }

    @Override
    public String describe(String name) {
        return name; // a dataset path
    }

    @Override
    public boolean has(String name) {
        if (present == null) {
            present = new HashSet<>(names());
        }
        return present.contains(name);
    }

    @Override
    public boolean same(String name, StoredTensors other, Progress progress) {
        Hdf5File b = ((KerasStoredTensors) other).file;
        DatasetInfo x = file.dataset(name);
        DatasetInfo y = b.dataset(name);
        if (!Arrays.equals(x.shape(), y.shape()) || x.typeClass() != y.typeClass() || x.typeSize() != y.typeSize()) {
            return false;
        }
        if (!x.allocated() && !y.allocated()) {
            // nothing stored: every value is the fill value, whatever the declared size
            return Arrays.equals(file.fillValue(name), b.fillValue(name));
        }
        long rows = x.shape().length == 0 ? 1 : x.shape()[0];
        long rowBytes = Math.max(1, x.elementCount() * x.typeSize() / Math.max(1, rows));
        long step = Math.max(1, SLAB_BYTES / rowBytes);
        for (long start = 0; start < rows; start += step) {
            long count = Math.min(step, rows - start);
            if (!Arrays.equals(file.readRows(name, start, count), b.readRows(name, start, count))) {
                return false;
            }
            progress.advance(count * rowBytes);
        }
        return true;
    }

    /** The file's size: the datasets make up most of it. */
    @Override
    public long bytes() {
        return file.path().toFile().length();
    }

    @Override
    public boolean hasOptimizerState() {
        return store.hasOptimizer();
    }

    @Override
    public boolean isOptimizerState(String name) {
        return name.startsWith(store.optimizerGroup());
    }
}

package io.rechannel.keras;

import io.rechannel.hdf5.Hdf5File;

/** What both Keras HDF5 layouts share: variables are datasets of one file, read and replaced by path. */
abstract class Hdf5VariableStore implements KerasWeightStore {

    protected final Hdf5File file;

    protected Hdf5VariableStore(Hdf5File file) {
        this.file = file;
    }

    @Override
    public double[] read(KerasWeight weight) {
        return file.readDoubles(weight.path());
    }

    @Override
    public void replace(KerasWeight weight, long[] newShape, double[] values) {
        file.replaceDataset(weight.path(), newShape, values);
    }
}

package io.rechannel.keras;

import io.rechannel.core.ElementType;
import io.rechannel.core.Hyperslab;
import io.rechannel.core.Remix;
import io.rechannel.hdf5.DatasetBlocks;
import io.rechannel.hdf5.Hdf5File;

/** What both Keras HDF5 layouts share: variables are datasets of one file, read and replaced by path. */
abstract sealed class Hdf5VariableStore implements KerasWeightStore permits LegacyH5Store, KerasV3Store {

    protected final Hdf5File file;

    protected Hdf5VariableStore(Hdf5File file) {
        this.file = file;
    }

    @Override
    public double[] read(KerasWeight weight) {
        return file.readDoubles(weight.path());
    }

    @Override
    public void readBlock(KerasWeight weight, Hyperslab slab, double[] into) {
        DatasetBlocks.read(file, weight.path(), slab, into);
    }

    @Override
    public ElementType elementType(KerasWeight weight) {
        return DatasetBlocks.elementType(file, weight.path());
    }

    @Override
    public void replace(KerasWeight weight, long[] newShape, double[] values) {
        file.replaceDataset(weight.path(), newShape, values);
    }

    @Override
    public boolean hasOptimizer() {
        return file.isGroup(optimizerGroup());
    }

    @Override
    public void dropOptimizer() {
        if (hasOptimizer()) {
            file.delete(optimizerGroup());
        }
    }

    @Override
    public void replace(KerasWeight weight, Remix remix) {
        writeRemix(file, weight, remix, this);
    }

    /** Writes the re-mix of {@code source}'s variable into {@code target} (the same file, or its copy), block by block. */
    static void writeRemix(Hdf5File target, KerasWeight weight, Remix remix, KerasWeightStore source) {
        ElementType type = source.elementType(weight);
        try (DatasetBlocks.Replacement out = DatasetBlocks.Replacement.begin(target, weight.path(), remix.newShape())) {
            remix.run((slab, into) -> source.readBlock(weight, slab, into), out::write, type);
            out.commit();
        }
    }
}

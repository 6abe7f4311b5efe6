package io.rechannel.keras;

import io.rechannel.core.ElementType;
import io.rechannel.core.Hyperslab;
import io.rechannel.core.Remix;

import java.util.List;

/** Where a Keras model's variables live: legacy HDF5 groups, or a Keras 3 weights file. */
sealed interface KerasWeightStore permits Hdf5VariableStore, PendingWrites {

    /** The variables of one layer, in the order Keras saved them. */
    List<KerasWeight> weightsOf(KerasLayer layer);

    /** The optimizer slot variables (momenta, velocities) of a model variable; empty when none. */
    List<KerasWeight> optimizerSlots(KerasWeight weight);

    /** A whole variable; only for small ones (per-channel constants), kernels are read in blocks. */
    double[] read(KerasWeight weight);

    /** A block of a variable, in row-major order. */
    void readBlock(KerasWeight weight, Hyperslab slab, double[] into);

    /** The type a variable's elements are stored in. */
    ElementType elementType(KerasWeight weight);

    /** Replaces a variable's values and shape, keeping its element type. */
    void replace(KerasWeight weight, long[] newShape, double[] values);

    /** Replaces a variable by its re-mix, computed block by block from its current values. */
    void replace(KerasWeight weight, Remix remix);

    /** True when the file holds optimizer state. */
    boolean hasOptimizer();

    /** The group holding the optimizer state. */
    String optimizerGroup();

    /** Removes the optimizer state, when there is any (instead of adapting it). */
    void dropOptimizer();

    /** The group under which all model variables lie. */
    String root();
}

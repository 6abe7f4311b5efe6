package io.rechannel.keras;

import java.util.List;

/** Where a Keras model's variables live: legacy HDF5 groups, or a Keras 3 weights file. */
public interface KerasWeightStore {

    /** The variables of one layer, in the order Keras saved them. */
    List<KerasWeight> weightsOf(KerasLayer layer);

    /** The optimizer slot variables (momenta, velocities) of a model variable; empty when none. */
    List<KerasWeight> optimizerSlots(KerasWeight weight);

    double[] read(KerasWeight weight);

    /** Replaces a variable's values and shape, keeping its element type. */
    void replace(KerasWeight weight, long[] newShape, double[] values);

    /** True when the file holds optimizer state. */
    boolean hasOptimizer();

    /** The group under which all model variables lie. */
    String root();
}

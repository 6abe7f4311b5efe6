package io.rechannel.keras;

import io.rechannel.hdf5.Hdf5File;

import java.util.ArrayList;
import java.util.List;

/**
 * A weight store that reads from the input and keeps every replacement in memory, so the whole
 * adaptation is computed (and can fail) before the output file exists; {@link #applyTo} then writes
 * the few changed tensors into the copy.
 */
final class PendingWrites implements KerasWeightStore {

    private record Replacement(String path, long[] shape, double[] values) {
    }

    private final KerasWeightStore input;
    private final List<Replacement> replacements = new ArrayList<>();

    PendingWrites(KerasWeightStore input) {
        this.input = input;
    }

    @Override
    public List<KerasWeight> weightsOf(KerasLayer layer) {
        return input.weightsOf(layer);
    }

    @Override
    public List<KerasWeight> optimizerSlots(KerasWeight weight) {
        return input.optimizerSlots(weight);
    }

    @Override
    public double[] read(KerasWeight weight) {
        return input.read(weight);
    }

    @Override
    public void replace(KerasWeight weight, long[] newShape, double[] values) {
        replacements.add(new Replacement(weight.path(), newShape.clone(), values));
    }

    @Override
    public boolean hasOptimizer() {
        return input.hasOptimizer();
    }

    @Override
    public String root() {
        return input.root();
    }

    void applyTo(Hdf5File output) {
        for (Replacement r : replacements) {
            output.replaceDataset(r.path(), r.shape(), r.values());
        }
    }
}

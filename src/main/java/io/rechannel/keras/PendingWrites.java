package io.rechannel.keras;

import io.rechannel.core.ElementType;
import io.rechannel.core.Hyperslab;
import io.rechannel.core.Remix;
import io.rechannel.hdf5.Hdf5File;

import java.util.ArrayList;
import java.util.List;

/**
 * A weight store that reads from the input and records every replacement, so the whole adaptation
 * is planned (and can fail) before the output file exists; {@link #applyTo} then writes the few
 * changed tensors into the copy: small ones from memory, kernels re-mixed block by block from the
 * input, so that none is ever held whole.
 */
final class PendingWrites implements KerasWeightStore {

    /** Either new values (small tensors) or a re-mix to run. */
    private record Replacement(KerasWeight weight, long[] shape, double[] values, Remix remix) {
    }

    private final KerasWeightStore input;
    private final List<Replacement> replacements = new ArrayList<>();
    private boolean dropOptimizer;

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
    public void readBlock(KerasWeight weight, Hyperslab slab, double[] into) {
        input.readBlock(weight, slab, into);
    }

    @Override
    public ElementType elementType(KerasWeight weight) {
        return input.elementType(weight);
    }

    @Override
    public void replace(KerasWeight weight, long[] newShape, double[] values) {
        replacements.add(new Replacement(weight, newShape.clone(), values, null));
    }

    @Override
    public void replace(KerasWeight weight, Remix remix) {
        replacements.add(new Replacement(weight, null, null, remix));
    }

    @Override
    public boolean hasOptimizer() {
        return input.hasOptimizer();
    }

    @Override
    public String root() {
        return input.root();
    }

    @Override
    public String optimizerGroup() {
        return input.optimizerGroup();
    }

    @Override
    public void dropOptimizer() {
        dropOptimizer = true;
    }

    /** Writes every replacement into {@code output}; the input must still be open. */
    void applyTo(Hdf5File output) {
        applyTo(output, input);
    }

    /**
     * Writes every replacement into {@code output}, re-mixing kernels from {@code original}: any store holding the
     * input's variables as they were (the output itself, before any replacement).
     */
    void applyTo(Hdf5File output, KerasWeightStore original) {
        for (Replacement r : replacements) {
            if (r.remix() != null) {
                Hdf5VariableStore.writeRemix(output, r.weight(), r.remix(), original);
            } else {
                output.replaceDataset(r.weight().path(), r.shape(), r.values());
            }
        }
        if (dropOptimizer && output.isGroup(optimizerGroup())) {
            output.delete(optimizerGroup());
        }
    }
}

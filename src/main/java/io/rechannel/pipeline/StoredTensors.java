package io.rechannel.pipeline;

import io.rechannel.format.Progress;

import java.util.List;

/**
 * A model's stored tensors as the verifier compares them: every one the adaptation does not change must hold
 * the same bytes in the adapted model.
 */
public interface StoredTensors {

    /** Every stored tensor, by the names {@link LayerTensor}s carry, in the file's order. */
    List<String> names();

    /** The tensor as reports name it ({@code initializer 'x'}, a dataset path). */
    default String describe(String name) {
        return "'" + name + "'";
    }

    /** True when the model stores a tensor of that name. */
    boolean has(String name);

    /**
     * True when {@code other} (the adapted model's stored tensors, of the same format) holds {@code name} with the
     * same type, shape and bytes; advances {@code progress} by the bytes compared.
     */
    boolean same(String name, StoredTensors other, Progress progress);

    /** The bytes {@link #same} reads over all tensors, for progress. */
    long bytes();

    /** True when the model holds optimizer state. */
    boolean hasOptimizerState();

    /** True for a tensor of optimizer state (absent from an adapted model whose optimizer state was dropped). */
    boolean isOptimizerState(String name);
}

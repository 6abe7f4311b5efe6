package io.rechannel.torch;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A file of named tensors without a model graph (a state dict), seen the way the adaptation pipeline
 * needs it: list the tensors, read one lazily, compare stored bytes, and write a copy with some
 * tensors replaced while every other byte is streamed from the input.
 */
interface TensorStore extends AutoCloseable {

    /** The file the user named (messages speak of it, never of a scratch file). */
    Path file();

    /** Every tensor, in the file's order. */
    List<StoredTensor> tensors();

    /** One floating tensor's values, in row-major order of its shape. */
    double[] read(StoredTensor tensor);

    /** Where a tensor's stored bytes lie, for byte-for-byte comparison. */
    RawRange raw(StoredTensor tensor);

    /** What {@code inspect} shows besides the tensors: layout, shards, checkpoint structure. */
    Map<String, String> details();

    /**
     * Writes the store with {@code edits} applied to {@code output} (and, for stores of several files,
     * beside it); optimizer state is emptied when {@code dropOptimizer}. Returns what was done, one line each.
     */
    List<String> write(Path output, List<TensorEdit> edits, boolean dropOptimizer, boolean overwrite);

    /** String metadata the file records beside its tensors (safetensors {@code __metadata__}); empty when none. */
    default Map<String, String> metadata() {
        return Map.of();
    }

    /** True when the store holds optimizer state. */
    default boolean hasOptimizer() {
        return tensors().stream().anyMatch(StoredTensor::isOptimizerSlot);
    }

    @Override
    void close();

    /** A byte range of a file. */
    record RawRange(Path file, long offset, long length) {
    }
}

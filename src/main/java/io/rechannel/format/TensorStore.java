package io.rechannel.format;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model file seen as named tensors, the way pipelines that need no graph see it: list the tensors,
 * read one at a time, and write a copy with some tensors replaced while every other byte is streamed
 * from the input. Formats offer one through {@link ModelFormat#openTensors}.
 */
public interface TensorStore extends AutoCloseable {

    /** The file the user named (messages speak of it, never of a scratch file). */
    Path file();

    /** Every tensor, in the file's order (for Keras, the order of the model's layers). */
    List<NamedTensor> tensors();

    /** One tensor's values, in row-major order of its shape; only floating tensors are read. */
    double[] read(NamedTensor tensor);

    /** Reads blocks ({@link io.rechannel.core.Hyperslab}s) of a floating tensor; by default from the whole tensor read at once. */
    default io.rechannel.core.Blocks.Reader reader(NamedTensor tensor) {
        return io.rechannel.core.Blocks.reader(read(tensor), tensor.shape());
    }

    /** Where a tensor's stored bytes lie, for byte-for-byte comparison, where the format stores them so. */
    default Optional<RawRange> raw(NamedTensor tensor) {
        return Optional.empty();
    }

    /** What {@code inspect} shows besides the tensors: layout, shards, checkpoint structure. */
    default Map<String, String> details() {
        return Map.of();
    }

    /** String metadata the file records beside its tensors (safetensors {@code __metadata__}); empty when none. */
    default Map<String, String> metadata() {
        return Map.of();
    }

    /** The model's input and the tensors depending on its channels, where the format can tell. */
    default Optional<ModelInput> input() {
        return Optional.empty();
    }

    /**
     * Writes the store with {@code edits} applied to {@code output} (and, for stores of several files,
     * beside it); optimizer state is emptied when {@code dropOptimizer}. An existing output is replaced
     * only when {@code overwrite}. Returns what was done, one line each.
     */
    List<String> write(Path output, List<TensorEdit> edits, boolean dropOptimizer, boolean overwrite);

    /** True when the store holds optimizer state. */
    default boolean hasOptimizer() {
        return tensors().stream().anyMatch(NamedTensor::isOptimizerSlot);
    }

    @Override
    void close();

    /** A byte range of a file. */
    record RawRange(Path file, long offset, long length) {
    }

    /**
     * A model's input as the format reads it.
     *
     * @param channels  its channel count
     * @param readers   the tensors of the layers reading it directly (their input channels are its channels)
     * @param constants per-channel constants in front of those layers (normalisation statistics)
     * @param bgrModel  the name by which the model is recognised as trained on blue-first (BGR) input, such as a
     *                  caffe-style keras.applications model; null when nothing says so
     */
    record ModelInput(int channels, List<String> readers, List<String> constants, String bgrModel) {
        public ModelInput {
            readers = List.copyOf(readers);
            constants = List.copyOf(constants);
        }

        public ModelInput(int channels, List<String> readers, List<String> constants) {
            this(channels, readers, constants, null);
        }
    }
}

package io.rechannel.format;

import io.rechannel.core.AdaptOptions;

import java.nio.file.Path;

/**
 * One model file format. Implementations are found with {@link java.util.ServiceLoader}; finding one
 * loads nothing heavy, so {@link #accepts} must stay cheap.
 */
public interface ModelFormat {

    /** A short name for messages and {@code inspect}: {@code keras-h5}. */
    String name();

    /** The files it reads, for messages: {@code Keras .h5/.hdf5}. */
    default String description() {
        return name();
    }

    /** True when this format reads the file (by its first bytes and name). */
    boolean accepts(Path file);

    /** Describes the model: inputs, the layers that depend on their channels, preprocessing. */
    Inspection inspect(Path file, AdaptOptions options);

    /**
     * Writes {@code output}: the input model adapted as {@code options} asks. The input is never
     * modified; an existing output is replaced only when {@code overwrite}.
     */
    AdaptResult extend(Path input, Path output, boolean overwrite, AdaptOptions options);

    /** Proves numerically that {@code adapted} is {@code original} with its input channels mapped. */
    VerifyResult verify(Path original, Path adapted, AdaptOptions options);
}

package io.rechannel.format;

import io.rechannel.core.AdaptOptions;

import java.nio.file.Path;
import java.util.List;

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

    /**
     * Called once this format is chosen for a file: starts loading what it needs that takes a while (a
     * native library) on another thread, so that the loading overlaps the work before its first use.
     */
    default void prepare() {
    }

    /**
     * The files the model {@code file} consists of, the model file first: for most formats the file
     * itself; an ONNX model adds its external-data files. An output may never be one of them.
     */
    default List<Path> parts(Path file) {
        return List.of(file);
    }

    /** Describes the model: inputs, the layers that depend on their channels, preprocessing. */
    Inspection inspect(Path file, AdaptOptions options);

    /**
     * Writes {@code output}: the input model adapted as {@code options} asks. The input is never
     * modified; an existing output is replaced only when {@code overwrite}.
     */
    AdaptResult extend(Path input, Path output, boolean overwrite, AdaptOptions options);

    /**
     * As {@link #extend(Path, Path, boolean, AdaptOptions)}, running {@code beforeCommit} on the finished
     * output before it appears: when the check throws (a verification that finds a difference), nothing is
     * written under {@code output} or beside it. The output may be none of the input's {@link #parts}
     * (nor the {@code --config} file), and without {@code overwrite} no file is replaced, even one created
     * while the model was written.
     */
    default AdaptResult extend(Path input, Path output, boolean overwrite, AdaptOptions options, OutputCheck beforeCommit) {
        return CheckedExtend.run(this, input, output, overwrite, options, beforeCommit);
    }

    /** Proves numerically that {@code adapted} is {@code original} with its input channels mapped. */
    VerifyResult verify(Path original, Path adapted, AdaptOptions options);
}

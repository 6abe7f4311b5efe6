package io.rechannel.format;

import io.rechannel.core.RechannelException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/** Finds the format that reads a file. */
public final class ModelFormats {

    private ModelFormats() {
    }

    public static ModelFormat forFile(Path file) {
        if (!Files.exists(file)) {
            throw new RechannelException(RechannelException.Kind.IO, file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new RechannelException(RechannelException.Kind.IO, file + ": not a regular file");
        }
        List<String> known = new ArrayList<>();
        for (ModelFormat format : ServiceLoader.load(ModelFormat.class)) {
            if (format.accepts(file)) {
                format.prepare();
                return format;
            }
            known.add(format.description());
        }
        throw RechannelException.unsupported(file + ": not a model file rechannel reads (" + String.join(", ", known) + ")");
    }

    /** A kind of model file and the name endings that say it, checked in this order. */
    private record NamedKind(String description, List<String> endings) {
    }

    private static final List<NamedKind> KINDS = List.of(
            new NamedKind("a Keras HDF5 file", List.of(".h5", ".hdf5")),
            new NamedKind("a Keras archive", List.of(".keras")),
            new NamedKind("an ONNX model", List.of(".onnx")),
            new NamedKind("a safetensors file", List.of(".safetensors", ".safetensors.index.json")),
            new NamedKind("a torch.save file", List.of(".pth", ".pt", ".bin", ".ckpt", ".tar")));

    private static NamedKind kindByName(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        for (NamedKind kind : KINDS) {
            if (kind.endings().stream().anyMatch(name::endsWith)) {
                return kind;
            }
        }
        return null;
    }

    /**
     * Refuses an output whose name says another kind of file than the input's: extend writes the input's
     * format, so {@code -o model.onnx} for a {@code .h5} input would be an HDF5 file named like ONNX. An input
     * whose name says no kind (found by its first bytes) leaves the output's name free.
     */
    public static void checkOutputName(Path input, Path output) {
        NamedKind in = kindByName(input);
        if (in == null || in == kindByName(output)) {
            return;
        }
        throw RechannelException.usage(output + ": the output of " + input + " is " + in.description()
                + " too (extend does not convert formats): name it " + String.join(" or ", in.endings().stream()
                        .map(ending -> "*" + ending).toList()));
    }

    /** The first bytes of a file (fewer if it is shorter), or an empty array when it cannot be read. */
    public static byte[] head(Path file, int count) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(count);
        } catch (IOException e) {
            return new byte[0];
        }
    }
}

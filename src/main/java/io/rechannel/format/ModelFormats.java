package io.rechannel.format;

import io.rechannel.core.RechannelException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    /** The first bytes of a file (fewer if it is shorter), or an empty array when it cannot be read. */
    public static byte[] head(Path file, int count) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(count);
        } catch (IOException e) {
            return new byte[0];
        }
    }
}

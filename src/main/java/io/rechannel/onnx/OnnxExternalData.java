package io.rechannel.onnx;

import io.rechannel.core.RechannelException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;

/**
 * Where an external initializer's bytes lie, confined to the model: its {@code location} must be a
 * relative path that resolves, symbolic links followed, to a regular file inside the real folder of the
 * model file, and its {@code offset}/{@code length} must be decimal numbers that select exactly the
 * tensor's size within that file. Anything else is refused before a byte of it is read.
 *
 * @param where  the model file, tensor and location, to name in messages
 * @param file   the data file, as a real path (links resolved)
 * @param offset where the tensor's bytes start
 * @param length how many bytes it has (its dimensions times its element size)
 */
record OnnxExternalData(String where, Path file, long offset, long length) {

    /** Resolves and checks an external initializer of {@code model}. */
    static OnnxExternalData of(OnnxFile model, OnnxFile.TensorInfo info) {
        String what = model.path() + ": initializer '" + info.name() + "'";
        String location = info.external().get("location");
        if (location == null || location.isEmpty()) {
            throw RechannelException.malformed(what + " is stored externally but names no location");
        }
        String where = what + " external data location '" + location + "'";
        Path data = confined(model.path(), location, where);
        long size;
        try {
            size = Files.size(data);
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, where + ": " + e.getMessage(), e);
        }
        long offset = number(info, "offset", 0, where);
        long expected = OnnxTensorCheck.rawSize(info.dataType(), info.elementCount());
        long length = number(info, "length", size - offset, where);
        if (offset > size || length > size - offset) {
            throw RechannelException.malformed(where + ": offset " + offset + " and length " + length
                    + " reach past the end of the data file (" + size + " bytes)");
        }
        if (expected >= 0 && length != expected) {
            throw RechannelException.malformed(where + ": holds " + length + " bytes, but dims "
                    + Arrays.toString(info.dims()) + " of data type " + info.dataType() + " need " + expected);
        }
        return new OnnxExternalData(where, data, offset, length);
    }

    /**
     * The real path of {@code location} relative to the model's folder; refused unless it is a regular
     * file inside that folder (after following links). A missing file is an I/O error, not damage.
     */
    private static Path confined(Path model, String location, String where) {
        Path folder;
        try {
            folder = model.toAbsolutePath().getParent().toRealPath();
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, where + ": the model's folder cannot be resolved: "
                    + e.getMessage(), e);
        }
        Path relative;
        try {
            relative = Path.of(location);
        } catch (InvalidPathException e) {
            throw RechannelException.malformed(where + " is not a valid path");
        }
        if (relative.isAbsolute() || !folder.resolve(relative).normalize().startsWith(folder)) {
            throw RechannelException.malformed(where + " points outside the model's folder " + folder
                    + "; rechannel reads only the model's own files");
        }
        Path real;
        try {
            real = folder.resolve(relative).toRealPath();
        } catch (NoSuchFileException e) {
            throw new RechannelException(RechannelException.Kind.IO, where + ": external data file " + location
                    + " is missing");
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, where + ": " + e.getMessage(), e);
        }
        if (!real.startsWith(folder)) {
            throw RechannelException.malformed(where + " is a link to " + real + ", outside the model's folder " + folder
                    + "; rechannel reads only the model's own files");
        }
        try {
            BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isRegularFile()) {
                throw RechannelException.malformed(where + " is " + (attributes.isDirectory() ? "a folder" : "not a regular file")
                        + "; external data must be a regular file");
            }
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, where + ": " + e.getMessage(), e);
        }
        return real;
    }

    /** A decimal, non-negative offset or length entry, or {@code fallback} when the entry is absent. */
    private static long number(OnnxFile.TensorInfo info, String key, long fallback, String where) {
        String text = info.external().get(key);
        if (text == null) {
            return fallback;
        }
        try {
            long value = Long.parseLong(text);
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // falls through to the refusal below
        }
        throw RechannelException.malformed(where + ": " + key + " '" + text + "' is not a non-negative whole number");
    }

    /**
     * Opens the data file without following a link in its last step: between the check and the read the
     * file cannot have been swapped for a link out of the folder.
     */
    FileChannel open() throws IOException {
        return FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    }

    /** The tensor's bytes (little-endian, as ONNX stores them). */
    byte[] read() {
        if (length > Integer.MAX_VALUE - 8) {
            throw RechannelException.unsupported(where + ": " + length + " bytes are more than rechannel reads at once (2 GiB)");
        }
        try (FileChannel channel = open()) {
            ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(length)).order(ByteOrder.LITTLE_ENDIAN);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, offset + buffer.position()) < 0) {
                    throw RechannelException.malformed(where + ": the data file " + file + " ends early");
                }
            }
            return buffer.array();
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, where + ": " + file + " cannot be read: "
                    + e.getMessage(), e);
        }
    }
}

package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.InvalidProtocolBufferException;
import io.rechannel.core.Blocks;
import io.rechannel.core.ElementType;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Shapes;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * Where an initializer's values lie, so that a tensor of any size is read and written a block at a
 * time: little-endian elements in {@code raw_data}, in a packed {@code float_data}/{@code double_data},
 * or in an external data file. The tensor's header (name, type, dims) is read without its values.
 */
final class TensorData {

    /** TensorProto fields that hold values. */
    private static final Set<Integer> VALUE_FIELDS = Set.of(4, 5, 6, 7, 9, 10, 11);
    private static final int FLOAT_DATA = 4;
    private static final int RAW_DATA = 9;
    private static final int DOUBLE_DATA = 10;

    /** Elements of {@code width} bytes, little-endian, from {@code offset} of {@code file}. */
    record Location(Path file, long offset, int width, int type) {
    }

    /**
     * An initializer's header and where its values lie; the location is null where they are not stored
     * as fixed-width bytes (varint-encoded int32_data of a float16 tensor, unpacked repeated fields).
     */
    record Scan(OnnxMl.TensorProto header, Location location) {
    }

    /** How to read a constant's values in blocks, and their type. */
    record Source(Blocks.Reader reader, ElementType type) {
    }

    private TensorData() {
    }

    /** A constant of the model (an initializer, read from its file in blocks, or a Constant node's value). */
    static Source source(OnnxModel model, String name) {
        OnnxFile file = model.file();
        OnnxFile.TensorInfo info = file.initializers().get(name);
        long[] shape = model.constantShape(name);
        if (info != null) {
            Scan scan = scan(file, info);
            ElementType type = OnnxTensors.elementType(scan.header().getDataType(), name, file.path());
            if (scan.location() != null) {
                return new Source(reader(scan.location(), shape), type);
            }
            return new Source(Blocks.reader(file.values(info), shape), type);
        }
        OnnxMl.TensorProto constant = model.constant(name);
        return new Source(Blocks.reader(OnnxTensors.values(constant, file.path(), null), shape),
                OnnxTensors.elementType(constant.getDataType(), name, file.path()));
    }

    /** The element type of a constant of the model. */
    static ElementType type(OnnxModel model, String name) {
        return OnnxTensors.elementType(header(model, name).getDataType(), name, model.file().path());
    }

    /** A constant's fields without its values. */
    static OnnxMl.TensorProto header(OnnxModel model, String name) {
        OnnxFile.TensorInfo info = model.file().initializers().get(name);
        return info != null ? scan(model.file(), info).header() : model.constant(name);
    }

    /** Reads an initializer's fields, skipping (not reading) its values. */
    static Scan scan(OnnxFile file, OnnxFile.TensorInfo info) {
        Path path = file.path();
        OnnxFile.Span span = info.span();
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        int valueField = -1;
        long valueStart = -1;
        long valueLength = -1;
        boolean unpacked = false;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long position = span.payloadStart();
            while (position < span.end()) {
                long fieldStart = position;
                long[] tag = varint(channel, position, span.end(), path, info);
                position = tag[1];
                int field = (int) (tag[0] >>> 3);
                int wire = (int) (tag[0] & 7);
                switch (wire) {
                    case 0 -> position = varint(channel, position, span.end(), path, info)[1];
                    case 1 -> position += 8;
                    case 5 -> position += 4;
                    case 2 -> {
                        long[] length = varint(channel, position, span.end(), path, info);
                        position = length[1] + length[0];
                        if (length[0] < 0 || position > span.end()) {
                            throw damaged(path, info);
                        }
                        if (VALUE_FIELDS.contains(field)) {
                            unpacked |= valueField >= 0;
                            valueField = field;
                            valueStart = length[1];
                            valueLength = length[0];
                            continue;
                        }
                    }
                    default -> throw damaged(path, info);
                }
                if (position > span.end() || position < fieldStart) {
                    throw damaged(path, info);
                }
                if (VALUE_FIELDS.contains(field)) {
                    unpacked = true; // one element per field: a legacy encoding, read whole
                    continue;
                }
                header.write(bytes(channel, fieldStart, position, path));
            }
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, path + ": " + e.getMessage(), e);
        }
        OnnxMl.TensorProto proto;
        try {
            proto = OnnxMl.TensorProto.parseFrom(header.toByteArray());
        } catch (InvalidProtocolBufferException e) {
            throw damaged(path, info);
        }
        int type = proto.getDataType();
        long count = Shapes.count(info.dims());
        int width = OnnxTensors.width(type, info.name(), path);
        long bytes = Math.multiplyExact(count, (long) width);
        if (info.isExternal()) {
            return new Scan(proto, external(file, info, bytes, width, type));
        }
        boolean packed = valueField == RAW_DATA || valueField == FLOAT_DATA && type == OnnxTensors.FLOAT
                || valueField == DOUBLE_DATA && type == OnnxTensors.DOUBLE;
        if (unpacked || !packed) {
            return new Scan(proto, null);
        }
        if (valueLength != bytes) {
            throw RechannelException.malformed(path + ": initializer '" + info.name() + "' holds " + valueLength
                    + " bytes of values for " + count + " elements of " + width + " bytes");
        }
        return new Scan(proto, new Location(path, valueStart, width, type));
    }

    private static Location external(OnnxFile file, OnnxFile.TensorInfo info, long bytes, int width, int type) {
        Path data = file.externalPath(info);
        long offset;
        long length;
        try {
            offset = Long.parseLong(info.external().getOrDefault("offset", "0"));
            length = Long.parseLong(info.external().getOrDefault("length", String.valueOf(bytes)));
        } catch (NumberFormatException e) {
            throw RechannelException.malformed(file.path() + ": initializer '" + info.name()
                    + "' has a non-numeric external offset or length");
        }
        if (offset < 0 || length != bytes) {
            throw RechannelException.malformed(file.path() + ": initializer '" + info.name() + "' claims " + length
                    + " external bytes at offset " + offset + " for " + bytes + " bytes of values");
        }
        try (FileChannel channel = FileChannel.open(data, StandardOpenOption.READ)) {
            if (channel.size() - offset < bytes) {
                throw RechannelException.malformed(data + ": ends inside initializer '" + info.name() + "'");
            }
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, data + ": " + e.getMessage(), e);
        }
        return new Location(data, offset, width, type);
    }

    /** Reads blocks of a tensor of {@code shape} stored at {@code location}. */
    static Blocks.Reader reader(Location location, long[] shape) {
        return (slab, into) -> {
            int[] at = {0};
            try (FileChannel channel = FileChannel.open(location.file(), StandardOpenOption.READ)) {
                slab.forEachRun(shape, (start, length) -> {
                    ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(length * location.width()))
                            .order(ByteOrder.LITTLE_ENDIAN);
                    readFully(channel, buffer, location.offset() + start * location.width(), location.file());
                    buffer.flip();
                    for (long i = 0; i < length; i++) {
                        into[at[0]++] = OnnxTensors.decode(buffer, location.type());
                    }
                });
            } catch (IOException | UncheckedIOException e) {
                throw new RechannelException(RechannelException.Kind.IO, location.file() + ": " + e.getMessage(), e);
            }
        };
    }

    /** Writes blocks of a tensor of {@code shape} as little-endian elements from {@code position} of {@code out}. */
    static Blocks.Writer writer(FileChannel out, long position, long[] shape, int type, Path name) {
        int width = OnnxTensors.width(type, "", name);
        return (slab, values) -> {
            int[] at = {0};
            slab.forEachRun(shape, (start, length) -> {
                ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(length * width)).order(ByteOrder.LITTLE_ENDIAN);
                for (long i = 0; i < length; i++) {
                    OnnxTensors.put(buffer, values[at[0]++], type);
                }
                buffer.flip();
                try {
                    long target = position + start * width;
                    while (buffer.hasRemaining()) {
                        target += out.write(buffer, target);
                    }
                } catch (IOException e) {
                    throw new RechannelException(RechannelException.Kind.IO, name + ": " + e.getMessage(), e);
                }
            });
        };
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path file) {
        try {
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, position + buffer.position()) < 0) {
                    throw RechannelException.malformed(file + ": ends inside a tensor's values");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] bytes(FileChannel channel, long start, long end, Path file) {
        ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(end - start));
        readFully(channel, buffer, start, file);
        return buffer.array();
    }

    /** A varint at {@code position}: {value, position after it}. */
    private static long[] varint(FileChannel channel, long position, long end, Path file, OnnxFile.TensorInfo info) {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.max(0, Math.min(10, end - position)));
        readFully(channel, buffer, position, file);
        long value = 0;
        for (int i = 0; i < buffer.limit(); i++) {
            byte b = buffer.get(i);
            value |= (long) (b & 0x7f) << (7 * i);
            if (b >= 0) {
                return new long[] {value, position + i + 1};
            }
        }
        throw damaged(file, info);
    }

    private static RechannelException damaged(Path file, OnnxFile.TensorInfo info) {
        return RechannelException.malformed(file + ": initializer '" + info.name() + "' is damaged");
    }
}

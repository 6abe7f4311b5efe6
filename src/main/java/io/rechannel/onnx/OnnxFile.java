package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.rechannel.core.RechannelException;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model read without loading its weights: one streaming pass records where every top-level
 * and graph field lies in the file, parses the small messages (nodes, inputs, outputs, value infos)
 * and only the header of each initializer (name, type, dimensions, external-data location). Tensor
 * values are read on demand; unchanged fields are later copied byte for byte by {@link OnnxWriter}.
 */
public final class OnnxFile {

    static final int MODEL_GRAPH = 7;
    static final int GRAPH_NODE = 1;
    static final int GRAPH_INITIALIZER = 5;
    static final int GRAPH_INPUT = 11;
    static final int GRAPH_OUTPUT = 12;
    static final int GRAPH_VALUE_INFO = 13;

    /** A field of a message: its number and where it lies (tag included), and where its payload starts. */
    record Span(int number, long start, long end, long payloadStart) {
        long payloadLength() {
            return end - payloadStart;
        }
    }

    /** An initializer's header; its values are read on demand. */
    public record TensorInfo(String name, int dataType, long[] dims, Span span, Map<String, String> external) {
        public long elementCount() {
            return io.rechannel.core.Shapes.count(dims);
        }

        public boolean isExternal() {
            return !external.isEmpty();
        }
    }

    private final Path path;
    private final List<Span> modelFields = new ArrayList<>();
    private final List<Span> graphFields = new ArrayList<>();
    private final List<OnnxMl.NodeProto> nodes = new ArrayList<>();
    private final List<OnnxMl.ValueInfoProto> inputs = new ArrayList<>();
    private final List<OnnxMl.ValueInfoProto> outputs = new ArrayList<>();
    private final List<OnnxMl.ValueInfoProto> valueInfos = new ArrayList<>();
    private final Map<String, TensorInfo> initializers = new LinkedHashMap<>();
    private Span graph;
    private long irVersion;

    private OnnxFile(Path path) {
        this.path = path;
    }

    public static OnnxFile read(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new RechannelException(RechannelException.Kind.IO, path + ": no such file");
        }
        OnnxFile file = new OnnxFile(path);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            file.index(CodedInputStream.newInstance(in));
        } catch (InvalidProtocolBufferException e) {
            throw RechannelException.malformed(path + ": not an ONNX model (damaged or truncated protobuf: "
                    + e.getMessage() + ")");
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, path + ": " + e.getMessage(), e);
        }
        if (file.graph == null) {
            throw RechannelException.malformed(path + ": not an ONNX model (no graph)");
        }
        return file;
    }

    private void index(CodedInputStream in) throws IOException {
        in.setSizeLimit(Integer.MAX_VALUE);
        while (true) {
            long start = in.getTotalBytesRead();
            int tag = in.readTag();
            if (tag == 0) {
                return;
            }
            int number = WireFormat.getTagFieldNumber(tag);
            if (number == MODEL_GRAPH && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int length = in.readRawVarint32();
                long payload = in.getTotalBytesRead();
                indexGraph(in, payload + length);
                graph = new Span(number, start, payload + length, payload);
                modelFields.add(graph);
                continue;
            }
            if (number == 1 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_VARINT) {
                irVersion = in.readInt64();
            } else if (!in.skipField(tag)) {
                return;
            }
            modelFields.add(new Span(number, start, in.getTotalBytesRead(), start));
        }
    }

    private void indexGraph(CodedInputStream in, long end) throws IOException {
        while (in.getTotalBytesRead() < end) {
            long start = in.getTotalBytesRead();
            int tag = in.readTag();
            int number = WireFormat.getTagFieldNumber(tag);
            if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                in.skipField(tag);
                graphFields.add(new Span(number, start, in.getTotalBytesRead(), start));
                continue;
            }
            int length = in.readRawVarint32();
            long payload = in.getTotalBytesRead();
            Span span = new Span(number, start, payload + length, payload);
            switch (number) {
                case GRAPH_NODE -> nodes.add(OnnxMl.NodeProto.parseFrom(in.readRawBytes(length)));
                case GRAPH_INPUT -> inputs.add(OnnxMl.ValueInfoProto.parseFrom(in.readRawBytes(length)));
                case GRAPH_OUTPUT -> outputs.add(OnnxMl.ValueInfoProto.parseFrom(in.readRawBytes(length)));
                case GRAPH_VALUE_INFO -> valueInfos.add(OnnxMl.ValueInfoProto.parseFrom(in.readRawBytes(length)));
                case GRAPH_INITIALIZER -> {
                    TensorInfo info = tensorHeader(in, span);
                    initializers.put(info.name(), info);
                }
                default -> in.skipRawBytes(length);
            }
            graphFields.add(span);
        }
    }

    /** Reads a TensorProto's header fields, skipping its data. */
    private TensorInfo tensorHeader(CodedInputStream in, Span span) throws IOException {
        String name = "";
        int dataType = 0;
        List<Long> dims = new ArrayList<>();
        Map<String, String> external = new LinkedHashMap<>();
        while (in.getTotalBytesRead() < span.end()) {
            int tag = in.readTag();
            int number = WireFormat.getTagFieldNumber(tag);
            int wire = WireFormat.getTagWireType(tag);
            if (number == 1 && wire == WireFormat.WIRETYPE_VARINT) {
                dims.add(in.readInt64());
            } else if (number == 1 && wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int limit = in.pushLimit(in.readRawVarint32());
                while (in.getBytesUntilLimit() > 0) {
                    dims.add(in.readInt64());
                }
                in.popLimit(limit);
            } else if (number == 2) {
                dataType = in.readInt32();
            } else if (number == 8) {
                name = in.readString();
            } else if (number == 13) {
                OnnxMl.StringStringEntryProto entry = OnnxMl.StringStringEntryProto.parseFrom(in.readBytes());
                external.put(entry.getKey(), entry.getValue());
            } else {
                in.skipField(tag);
            }
        }
        return new TensorInfo(name, dataType, dims.stream().mapToLong(Long::longValue).toArray(), span, external);
    }

    public Path path() {
        return path;
    }

    public long irVersion() {
        return irVersion;
    }

    public List<OnnxMl.NodeProto> nodes() {
        return nodes;
    }

    public List<OnnxMl.ValueInfoProto> inputs() {
        return inputs;
    }

    public List<OnnxMl.ValueInfoProto> outputs() {
        return outputs;
    }

    public List<OnnxMl.ValueInfoProto> valueInfos() {
        return valueInfos;
    }

    public Map<String, TensorInfo> initializers() {
        return initializers;
    }

    List<Span> modelFields() {
        return modelFields;
    }

    List<Span> graphFields() {
        return graphFields;
    }

    Span graph() {
        return graph;
    }

    /** Reads the bytes of a span of this file. */
    byte[] bytes(long start, long end) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(end - start));
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, start + buffer.position()) < 0) {
                    throw RechannelException.malformed(path + ": file ends early");
                }
            }
            return buffer.array();
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, path + ": " + e.getMessage(), e);
        }
    }

    /** The whole TensorProto of an initializer (with its data, unless external). */
    public OnnxMl.TensorProto tensor(TensorInfo info) {
        try {
            return OnnxMl.TensorProto.parseFrom(bytes(info.span().payloadStart(), info.span().end()));
        } catch (InvalidProtocolBufferException e) {
            throw RechannelException.malformed(path + ": initializer '" + info.name() + "' is damaged");
        }
    }

    /** An initializer's values as doubles (float, double and float16 tensors). */
    public double[] values(TensorInfo info) {
        return OnnxTensors.values(tensor(info), path, externalData(info));
    }

    /** For an external initializer: its bytes from the data file; otherwise null. */
    byte[] externalData(TensorInfo info) {
        if (!info.isExternal()) {
            return null;
        }
        Path data = externalPath(info);
        long offset = Long.parseLong(info.external().getOrDefault("offset", "0"));
        String lengthText = info.external().get("length");
        try (FileChannel channel = FileChannel.open(data, StandardOpenOption.READ)) {
            long length = lengthText != null ? Long.parseLong(lengthText) : channel.size() - offset;
            ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(length)).order(ByteOrder.LITTLE_ENDIAN);
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, offset + buffer.position()) < 0) {
                    throw RechannelException.malformed(data + ": ends inside initializer '" + info.name() + "'");
                }
            }
            return buffer.array();
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, data + ": external data of '" + info.name()
                    + "' cannot be read: " + e.getMessage(), e);
        }
    }

    /** The file holding an external initializer's data. */
    Path externalPath(TensorInfo info) {
        String location = info.external().get("location");
        if (location == null) {
            throw RechannelException.malformed(path + ": initializer '" + info.name() + "' is external but names no location");
        }
        Path data = path.toAbsolutePath().getParent().resolve(location).normalize();
        if (!Files.isRegularFile(data)) {
            throw new RechannelException(RechannelException.Kind.IO, path + ": external data file " + location
                    + " of initializer '" + info.name() + "' is missing");
        }
        return data;
    }
}

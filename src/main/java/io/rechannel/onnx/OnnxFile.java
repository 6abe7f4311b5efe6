package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Shapes;
import io.rechannel.format.Progress;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
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
final class OnnxFile {

    static final int MODEL_GRAPH = 7;
    static final int MODEL_OPSET_IMPORT = 8;
    static final int MODEL_METADATA_PROPS = 14;
    static final int GRAPH_NODE = 1;
    static final int GRAPH_INITIALIZER = 5;
    static final int GRAPH_INPUT = 11;
    static final int GRAPH_OUTPUT = 12;
    static final int GRAPH_VALUE_INFO = 13;
    static final int GRAPH_SPARSE_INITIALIZER = 15;

    /** A field of a message: its number and where it lies (tag included), and where its payload starts. */
    record Span(int number, long start, long end, long payloadStart) {
        long payloadLength() {
            return end - payloadStart;
        }
    }

    /**
     * An initializer's header; its values are read on demand.
     *
     * @param stored where and how its values are stored, as the file declares it (checked by {@link OnnxTensorCheck})
     */
    public record TensorInfo(String name, int dataType, long[] dims, Span span, Map<String, String> external,
                             OnnxTensorCheck.Stored stored) {
        public long elementCount() {
            return Shapes.count(dims);
        }

        public boolean isExternal() {
            return stored.dataLocation() == OnnxTensorCheck.EXTERNAL;
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
    private final List<String> sparseInitializers = new ArrayList<>();
    private final Map<String, Long> opsets = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
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
        try (Progress progress = Progress.of("reading " + path.getFileName(), Files.size(path));
             InputStream in = new BufferedInputStream(progress.counting(Files.newInputStream(path)), 1 << 16)) {
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
        OnnxIntegrity.check(file);
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
                if (graph != null) {
                    // protobuf would merge the two; a reader seeing only one of them would be fooled
                    throw RechannelException.malformed(path + ": holds two graphs (field 7 twice)");
                }
                int length = in.readRawVarint32();
                long payload = in.getTotalBytesRead();
                int limit = in.pushLimit(length);
                indexGraph(in);
                popLimit(in, limit);
                graph = new Span(number, start, payload + length, payload);
                modelFields.add(graph);
                continue;
            }
            int wire = WireFormat.getTagWireType(tag);
            if (number == 1 && wire == WireFormat.WIRETYPE_VARINT) {
                irVersion = in.readInt64();
            } else if (number == MODEL_OPSET_IMPORT && wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                OnnxMl.OperatorSetIdProto opset = OnnxMl.OperatorSetIdProto.parseFrom(in.readBytes());
                opsets.merge(opset.getDomain().equals("ai.onnx") ? "" : opset.getDomain(), opset.getVersion(), Math::max);
            } else if (number == MODEL_METADATA_PROPS && wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                OnnxMl.StringStringEntryProto entry = OnnxMl.StringStringEntryProto.parseFrom(in.readBytes());
                metadata.put(entry.getKey(), entry.getValue());
            } else if (!in.skipField(tag)) {
                return;
            }
            modelFields.add(new Span(number, start, in.getTotalBytesRead(), start));
        }
    }

    /**
     * Ends a message read up to its limit. The stream's {@code isAtEnd} is also true where the file ends,
     * so a message whose length reaches past the end of the file is caught here.
     */
    private static void popLimit(CodedInputStream in, int limit) throws InvalidProtocolBufferException {
        if (in.getBytesUntilLimit() > 0) {
            throw new InvalidProtocolBufferException("the file ends inside a message that claims "
                    + in.getBytesUntilLimit() + " more bytes");
        }
        in.popLimit(limit);
    }

    /** Indexes the graph's fields up to the current limit (the graph message's end). */
    private void indexGraph(CodedInputStream in) throws IOException {
        while (!in.isAtEnd()) {
            long start = in.getTotalBytesRead();
            int tag = in.readTag();
            int number = WireFormat.getTagFieldNumber(tag);
            if (WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                if (!in.skipField(tag)) {
                    throw RechannelException.malformed(path + ": the graph holds a stray end-group tag");
                }
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
                    int limit = in.pushLimit(length);
                    TensorInfo info = tensorHeader(in, span);
                    popLimit(in, limit);
                    if (initializers.put(info.name(), info) != null) {
                        throw RechannelException.malformed(path + ": two initializers are named '" + info.name() + "'");
                    }
                }
                case GRAPH_SPARSE_INITIALIZER -> {
                    int limit = in.pushLimit(length);
                    sparseInitializers.add(sparseName(in, span));
                    popLimit(in, limit);
                }
                default -> in.skipRawBytes(length);
            }
            graphFields.add(span);
        }
    }

    /**
     * Reads a TensorProto's header fields up to the current limit, counting its stored values and skipping
     * them. A known field with an unexpected wire type is skipped, as protobuf's own parser does.
     */
    private TensorInfo tensorHeader(CodedInputStream in, Span span) throws IOException {
        String name = "";
        int dataType = 0;
        int dataLocation = 0;
        long rawBytes = -1;
        List<Long> dims = new ArrayList<>();
        Map<Integer, Long> typed = new LinkedHashMap<>();
        Map<String, String> external = new LinkedHashMap<>();
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            int number = WireFormat.getTagFieldNumber(tag);
            int wire = WireFormat.getTagWireType(tag);
            boolean delimited = wire == WireFormat.WIRETYPE_LENGTH_DELIMITED;
            if (number == 1 && wire == WireFormat.WIRETYPE_VARINT) {
                dims.add(in.readInt64());
            } else if (number == 1 && delimited) {
                int limit = in.pushLimit(in.readRawVarint32());
                while (in.getBytesUntilLimit() > 0) {
                    dims.add(in.readInt64());
                }
                in.popLimit(limit);
            } else if (number == 2 && wire == WireFormat.WIRETYPE_VARINT) {
                dataType = in.readInt32();
            } else if (number == 8 && delimited) {
                name = in.readString();
            } else if (number == 9 && delimited) {
                int length = in.readRawVarint32();
                in.skipRawBytes(length);
                rawBytes = length;
            } else if (number == 13 && delimited) {
                OnnxMl.StringStringEntryProto entry = OnnxMl.StringStringEntryProto.parseFrom(in.readBytes());
                external.put(entry.getKey(), entry.getValue());
            } else if (number == 14 && wire == WireFormat.WIRETYPE_VARINT) {
                dataLocation = in.readEnum();
            } else if (OnnxTensorCheck.isTypedField(number, wire)) {
                typed.merge(number, OnnxTensorCheck.countValues(in, tag), Long::sum);
            } else if (!in.skipField(tag)) {
                throw RechannelException.malformed(path + ": initializer '" + name + "' holds a stray end-group tag");
            }
        }
        return new TensorInfo(name, dataType, dims.stream().mapToLong(Long::longValue).toArray(), span, external,
                new OnnxTensorCheck.Stored(rawBytes, typed, dataLocation));
    }

    /** The name of a SparseTensorProto's values (what nodes refer to it by), skipping its data. */
    private String sparseName(CodedInputStream in, Span span) throws IOException {
        String name = "";
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            if (WireFormat.getTagFieldNumber(tag) == 1 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int limit = in.pushLimit(in.readRawVarint32());
                TensorInfo values = tensorHeader(in, span);
                popLimit(in, limit);
                name = values.name();
                if (values.isExternal()) {
                    throw RechannelException.unsupported(path + ": sparse initializer '" + name
                            + "' stores its values in external data; rechannel reads external data of dense initializers only");
                }
            } else if (!in.skipField(tag)) {
                throw RechannelException.malformed(path + ": a sparse initializer holds a stray end-group tag");
            }
        }
        return name;
    }

    public Path path() {
        return path;
    }

    public long irVersion() {
        return irVersion;
    }

    /** The operator set imported for {@code domain} ({@code ""}: the default ONNX domain), or -1 when none is. */
    public long opset(String domain) {
        return opsets.getOrDefault(domain, -1L);
    }

    /** The model's {@code metadata_props}, key to value, in file order. */
    public Map<String, String> metadata() {
        return metadata;
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

    /** The names of the graph's sparse initializers (constants too, though rechannel never changes them). */
    List<String> sparseInitializers() {
        return sparseInitializers;
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
        return info.isExternal() ? OnnxExternalData.of(this, info).read() : null;
    }

    /** The file holding an external initializer's data: a regular file inside the model's folder. */
    Path externalPath(TensorInfo info) {
        return OnnxExternalData.of(this, info).file();
    }
}

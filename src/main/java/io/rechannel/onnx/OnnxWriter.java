package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import com.google.protobuf.WireFormat;
import io.rechannel.core.RechannelException;
import io.rechannel.format.ByteRanges;
import io.rechannel.format.Progress;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an ONNX file as a copy of another with {@link OnnxEdits} applied, streaming: unchanged fields
 * go from input to output by the kernel, changed ones are re-encoded, the graph's length prefix is
 * computed from the parts. Memory holds only the changed messages.
 */
final class OnnxWriter {

    /** A piece of the output: a range of the input, or new bytes (followed by a changed tensor's values). */
    private record Part(long start, long end, byte[] bytes, ChangedTensor tensor) {
        Part(long start, long end, byte[] bytes) {
            this(start, end, bytes, null);
        }

        static Part of(ChangedTensor tensor) {
            return new Part(0, 0, tensor.prefix(OnnxFile.GRAPH_INITIALIZER), tensor);
        }

        long size() {
            return bytes != null ? bytes.length + (tensor != null ? tensor.rawLength() : 0) : end - start;
        }
    }

    private OnnxWriter() {
    }

    static void write(OnnxFile in, OnnxEdits edits, Path output) {
        List<Part> graphParts = new ArrayList<>();
        int nodeIndex = 0;
        int inputIndex = 0;
        int valueIndex = 0;
        List<OnnxFile.TensorInfo> initializers = new ArrayList<>(in.initializers().values());
        int initializerIndex = 0;
        for (OnnxFile.Span span : in.graphFields()) {
            MessageLite replacement = null;
            ChangedTensor changed = null;
            switch (span.number()) {
                case OnnxFile.GRAPH_NODE -> {
                    if (nodeIndex == 0) {
                        // ahead of every node: what they compute is read only by nodes after them
                        edits.prepended.forEach(added -> graphParts.add(new Part(0, 0, field(OnnxFile.GRAPH_NODE, added))));
                    }
                    OnnxMl.NodeProto.Builder node = edits.nodes.get(nodeIndex++);
                    replacement = node == null ? null : node.build();
                }
                case OnnxFile.GRAPH_INPUT -> replacement = edits.valueInfos.get(in.inputs().get(inputIndex++).getName());
                case OnnxFile.GRAPH_VALUE_INFO -> replacement = edits.valueInfos.get(in.valueInfos().get(valueIndex++).getName());
                case OnnxFile.GRAPH_INITIALIZER -> {
                    OnnxFile.TensorInfo info = initializers.get(initializerIndex++);
                    changed = edits.initializers.get(info.name());
                    if (changed == null && info.isExternal() && !edits.locations.isEmpty()) {
                        replacement = relocated(in.tensor(info), edits);
                    }
                }
                default -> { }
            }
            graphParts.add(changed != null ? Part.of(changed) : replacement == null ? new Part(span.start(), span.end(), null)
                    : new Part(0, 0, field(span.number(), replacement)));
        }
        for (ChangedTensor tensor : edits.added) {
            graphParts.add(Part.of(tensor));
        }
        long graphLength = graphParts.stream().mapToLong(Part::size).sum();
        if (graphLength > Integer.MAX_VALUE) {
            throw RechannelException.unsupported(in.path() + ": the adapted graph would take " + graphLength
                    + " bytes, beyond protobuf's 2 GiB limit (rechannel stores changed tensors inline)");
        }
        try (FileChannel source = FileChannel.open(in.path(), StandardOpenOption.READ);
             // the output is a fresh, empty temporary file: truncating it on open would only make the
             // file system flush every written page at close (ext4 does so after a truncation)
             FileChannel out = FileChannel.open(output, StandardOpenOption.WRITE);
             Progress progress = Progress.of("writing " + output.getFileName(),
                     source.size())) {
            for (OnnxFile.Span span : in.modelFields()) {
                if (span == in.graph()) {
                    ByteArrayOutputStream header = new ByteArrayOutputStream();
                    CodedOutputStream coded = CodedOutputStream.newInstance(header);
                    coded.writeTag(OnnxFile.MODEL_GRAPH, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                    coded.writeUInt64NoTag(graphLength);
                    coded.flush();
                    put(out, new Part(0, 0, header.toByteArray()), source, progress);
                    for (Part part : graphParts) {
                        put(out, part, source, progress);
                        if (part.tensor() != null) {
                            long at = out.position();
                            part.tensor().writeValues(out, at, output);
                            out.position(at + part.tensor().rawLength());
                        }
                    }
                } else {
                    put(out, new Part(span.start(), span.end(), null), source, progress);
                }
            }
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, output + ": " + e.getMessage(), e);
        }
    }

    private static OnnxMl.TensorProto relocated(OnnxMl.TensorProto tensor, OnnxEdits edits) {
        OnnxMl.TensorProto.Builder b = tensor.toBuilder().clearExternalData();
        for (OnnxMl.StringStringEntryProto entry : tensor.getExternalDataList()) {
            String value = entry.getKey().equals("location") ? edits.locations.getOrDefault(entry.getValue(), entry.getValue())
                    : entry.getValue();
            b.addExternalData(entry.toBuilder().setValue(value));
        }
        return b.build();
    }

    private static byte[] field(int number, MessageLite message) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(message.getSerializedSize() + 16);
            CodedOutputStream coded = CodedOutputStream.newInstance(bytes);
            coded.writeMessage(number, message);
            coded.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void put(FileChannel out, Part part, FileChannel source, Progress progress)
            throws IOException {
        if (part.bytes() != null) {
            ByteBuffer buffer = ByteBuffer.wrap(part.bytes());
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            progress.advance(part.bytes().length);
            return;
        }
        ByteRanges.copy(source, part.start(), part.size(), out, out.position(), progress);
    }
}

package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.rechannel.core.Blocks;
import io.rechannel.core.ElementType;
import io.rechannel.core.Hyperslab;
import io.rechannel.core.Remix;
import io.rechannel.core.Shapes;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * An initializer as the output will hold it: its header (name, type, dims) and its values as
 * {@code raw_data}, which are produced straight into the output file, block by block, when it is
 * written; a re-mixed weight is never held whole.
 */
final class ChangedTensor {

    private static final int RAW_DATA = 9;

    /** Produces the values through a writer of the new tensor. */
    @FunctionalInterface
    interface Values {
        void writeTo(Blocks.Writer out);
    }

    private final OnnxMl.TensorProto header;
    private final long[] dims;
    private final Values values;
    private final Path file;

    private ChangedTensor(OnnxMl.TensorProto header, long[] dims, Values values, Path file) {
        this.header = header;
        this.dims = dims.clone();
        this.values = values;
        this.file = file;
    }

    /** Small values already computed. */
    static ChangedTensor of(OnnxMl.TensorProto header, long[] dims, double[] values, Path file) {
        return new ChangedTensor(header, dims, out -> out.write(Hyperslab.whole(dims), values), file);
    }

    /** Values produced block by block when the tensor is written. */
    static ChangedTensor produced(OnnxMl.TensorProto header, long[] dims, Values values, Path file) {
        return new ChangedTensor(header, dims, values, file);
    }

    /** A re-mix of {@code source}, computed while it is written. */
    static ChangedTensor remixed(OnnxMl.TensorProto header, Remix remix, Blocks.Reader source, ElementType type, Path file) {
        return new ChangedTensor(header, remix.newShape(), out -> remix.run(source, out, type), file);
    }

    String name() {
        return header.getName();
    }

    long[] dims() {
        return dims.clone();
    }

    long rawLength() {
        return Math.multiplyExact(Shapes.count(dims), (long) OnnxTensors.width(header.getDataType(), name(), file));
    }

    /** The graph field up to its values: tag and length, the header's fields, raw_data's tag and length. */
    byte[] prefix(int graphField) {
        try {
            byte[] fields = header.toByteArray();
            long raw = rawLength();
            long message = fields.length + CodedOutputStream.computeTagSize(RAW_DATA)
                    + CodedOutputStream.computeUInt64SizeNoTag(raw) + raw;
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(fields.length + 32);
            CodedOutputStream coded = CodedOutputStream.newInstance(bytes);
            coded.writeTag(graphField, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            coded.writeUInt64NoTag(message);
            coded.writeRawBytes(fields);
            coded.writeTag(RAW_DATA, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            coded.writeUInt64NoTag(raw);
            coded.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes the values from {@code position} of {@code out}. */
    void writeValues(FileChannel out, long position, Path output) {
        values.writeTo(TensorData.writer(out, position, dims, header.getDataType(), output));
    }
}

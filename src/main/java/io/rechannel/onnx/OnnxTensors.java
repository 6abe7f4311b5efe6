package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.ElementType;
import io.rechannel.core.HalfFloat;
import io.rechannel.core.RechannelException;
import io.rechannel.core.Shapes;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;

/** Conversion between ONNX tensors and the doubles the channel arithmetic works in. */
final class OnnxTensors {

    static final int FLOAT = OnnxMl.TensorProto.DataType.FLOAT_VALUE;
    static final int DOUBLE = OnnxMl.TensorProto.DataType.DOUBLE_VALUE;
    static final int FLOAT16 = OnnxMl.TensorProto.DataType.FLOAT16_VALUE;

    /** ONNX data types by the safetensors names {@link io.rechannel.format.NamedTensor} uses. */
    private static final Map<Integer, String> DTYPES = Map.ofEntries(Map.entry(1, "F32"), Map.entry(2, "U8"),
            Map.entry(3, "I8"), Map.entry(4, "U16"), Map.entry(5, "I16"), Map.entry(6, "I32"), Map.entry(7, "I64"),
            Map.entry(9, "BOOL"), Map.entry(10, "F16"), Map.entry(11, "F64"), Map.entry(12, "U32"),
            Map.entry(13, "U64"), Map.entry(16, "BF16"));

    private OnnxTensors() {
    }

    /** An ONNX data type by its safetensors name ({@code F32}), or {@code ONNX<n>} for one without. */
    static String dtype(int type) {
        return DTYPES.getOrDefault(type, "ONNX" + type);
    }

    /** A whole tensor's values; only for small ones (constants), weights are read in blocks ({@link TensorData}). */
    static double[] values(OnnxMl.TensorProto tensor, Path file, byte[] external) {
        int type = tensor.getDataType();
        width(type, tensor.getName(), file);
        long count = Shapes.count(tensor.getDimsList().stream().mapToLong(Long::longValue).toArray());
        double[] values = new double[Math.toIntExact(count)];
        ByteBuffer raw = external != null ? ByteBuffer.wrap(external)
                : tensor.hasRawData() ? tensor.getRawData().asReadOnlyByteBuffer() : null;
        if (raw != null) {
            raw.order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < values.length; i++) {
                values[i] = decode(raw, type);
            }
            return values;
        }
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (type) {
                case FLOAT -> tensor.getFloatData(i);
                case DOUBLE -> tensor.getDoubleData(i);
                default -> HalfFloat.toFloat((short) tensor.getInt32Data(i));
            };
        }
        return values;
    }

    /** Bytes per element of the types rechannel adapts; any other type is unsupported. */
    static int width(int type, String name, Path file) {
        return switch (type) {
            case FLOAT -> 4;
            case DOUBLE -> 8;
            case FLOAT16 -> 2;
            default -> throw RechannelException.unsupported(file + ": initializer '" + name + "' has ONNX data type "
                    + type + "; rechannel adapts float, double and float16 weights");
        };
    }

    static ElementType elementType(int type, String name, Path file) {
        return switch (width(type, name, file)) {
            case 4 -> ElementType.FLOAT32;
            case 8 -> ElementType.FLOAT64;
            default -> ElementType.FLOAT16;
        };
    }

    /** The next little-endian element of {@code raw}. */
    static double decode(ByteBuffer raw, int type) {
        return switch (type) {
            case FLOAT -> raw.getFloat();
            case DOUBLE -> raw.getDouble();
            default -> HalfFloat.toFloat(raw.getShort());
        };
    }

    /** Appends one element, little-endian. */
    static void put(ByteBuffer buffer, double value, int type) {
        switch (type) {
            case FLOAT -> buffer.putFloat((float) value);
            case DOUBLE -> buffer.putDouble(value);
            default -> buffer.putShort(HalfFloat.fromFloat((float) value));
        }
    }

    /** {@code tensor} with a new name and dimensions and no values. */
    static OnnxMl.TensorProto header(OnnxMl.TensorProto tensor, String name, long[] dims) {
        OnnxMl.TensorProto.Builder b = tensor.toBuilder().setName(name).clearDims().clearFloatData().clearDoubleData()
                .clearInt32Data().clearInt64Data().clearUint64Data().clearStringData().clearRawData().clearExternalData()
                .clearDataLocation();
        for (long d : dims) {
            b.addDims(d);
        }
        return b.build();
    }
}

package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import io.rechannel.core.RechannelException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/** Conversion between ONNX tensors and the doubles the channel arithmetic works in. */
final class OnnxTensors {

    static final int FLOAT = OnnxMl.TensorProto.DataType.FLOAT_VALUE;
    static final int DOUBLE = OnnxMl.TensorProto.DataType.DOUBLE_VALUE;
    static final int FLOAT16 = OnnxMl.TensorProto.DataType.FLOAT16_VALUE;

    private OnnxTensors() {
    }

    static double[] values(OnnxMl.TensorProto tensor, Path file, byte[] external) {
        int type = tensor.getDataType();
        long count = io.rechannel.core.Shapes.count(tensor.getDimsList().stream().mapToLong(Long::longValue).toArray());
        double[] values = new double[Math.toIntExact(count)];
        ByteBuffer raw = external != null ? ByteBuffer.wrap(external)
                : tensor.hasRawData() ? tensor.getRawData().asReadOnlyByteBuffer() : null;
        if (raw != null) {
            raw.order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < values.length; i++) {
                values[i] = switch (type) {
                    case 1 -> raw.getFloat();
                    case 11 -> raw.getDouble();
                    case 10 -> io.rechannel.core.HalfFloat.toFloat(raw.getShort());
                    default -> throw unsupported(tensor, file);
                };
            }
            return values;
        }
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (type) {
                case 1 -> tensor.getFloatData(i);
                case 11 -> tensor.getDoubleData(i);
                case 10 -> io.rechannel.core.HalfFloat.toFloat((short) tensor.getInt32Data(i));
                default -> throw unsupported(tensor, file);
            };
        }
        return values;
    }

    /** Little-endian bytes of values in the tensor's element type. */
    static byte[] encode(double[] values, int type, String name, Path file) {
        int width = switch (type) {
            case 1 -> 4;
            case 11 -> 8;
            case 10 -> 2;
            default -> throw RechannelException.unsupported(file + ": initializer '" + name + "' has ONNX data type " + type
                    + "; rechannel adapts float, double and float16 weights");
        };
        ByteBuffer buffer = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            switch (type) {
                case 1 -> buffer.putFloat((float) v);
                case 11 -> buffer.putDouble(v);
                default -> buffer.putShort(io.rechannel.core.HalfFloat.fromFloat((float) v));
            }
        }
        return buffer.array();
    }

    /** A copy of {@code tensor} with new name, dimensions and values (stored as raw data). */
    static OnnxMl.TensorProto replaced(OnnxMl.TensorProto tensor, String name, long[] dims, byte[] raw) {
        OnnxMl.TensorProto.Builder b = tensor.toBuilder().setName(name).clearDims().clearFloatData().clearDoubleData()
                .clearInt32Data().clearRawData().clearExternalData().clearDataLocation();
        for (long d : dims) {
            b.addDims(d);
        }
        return b.setRawData(ByteString.copyFrom(raw)).build();
    }

    private static RechannelException unsupported(OnnxMl.TensorProto tensor, Path file) {
        return RechannelException.unsupported(file + ": initializer '" + tensor.getName() + "' has ONNX data type "
                + tensor.getDataType() + "; rechannel adapts float, double and float16 weights");
    }
}

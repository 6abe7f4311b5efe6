package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.rechannel.core.RechannelException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checks that a tensor's declared shape and stored values agree, as ONNX defines them: dimensions are
 * non-negative and their product fits, exactly one field holds the values (raw bytes, the typed field
 * of its data type, or external data), and it holds exactly as many as the dimensions call for. So
 * every later read of a tensor is bounded by what the file really holds.
 */
final class OnnxTensorCheck {

    static final int EXTERNAL = OnnxMl.TensorProto.DataLocation.EXTERNAL_VALUE;

    private static final int FLOAT_DATA = 4;
    private static final int INT32_DATA = 5;
    private static final int STRING_DATA = 6;
    private static final int INT64_DATA = 7;
    private static final int DOUBLE_DATA = 10;
    private static final int UINT64_DATA = 11;

    private static final Map<Integer, String> FIELD_NAMES = Map.of(FLOAT_DATA, "float_data", INT32_DATA, "int32_data",
            STRING_DATA, "string_data", INT64_DATA, "int64_data", DOUBLE_DATA, "double_data", UINT64_DATA, "uint64_data");

    /**
     * How a tensor's values are stored.
     *
     * @param rawBytes     the length of {@code raw_data}, or -1 when absent
     * @param typed        for each typed data field present (float_data …), how many values it holds
     * @param dataLocation 0 (in the file) or 1 (external)
     */
    record Stored(long rawBytes, Map<Integer, Long> typed, int dataLocation) {

        static Stored of(OnnxMl.TensorProto t) {
            Map<Integer, Long> typed = new LinkedHashMap<>();
            putCount(typed, FLOAT_DATA, t.getFloatDataCount());
            putCount(typed, INT32_DATA, t.getInt32DataCount());
            putCount(typed, STRING_DATA, t.getStringDataCount());
            putCount(typed, INT64_DATA, t.getInt64DataCount());
            putCount(typed, DOUBLE_DATA, t.getDoubleDataCount());
            putCount(typed, UINT64_DATA, t.getUint64DataCount());
            return new Stored(t.hasRawData() ? t.getRawData().size() : -1, typed, t.getDataLocation().getNumber());
        }

        private static void putCount(Map<Integer, Long> typed, int field, long count) {
            if (count > 0) {
                typed.put(field, count);
            }
        }
    }

    private OnnxTensorCheck() {
    }

    /** Whether a field of a TensorProto is one of the typed value fields, in a wire type protobuf accepts for it. */
    static boolean isTypedField(int number, int wire) {
        if (!FIELD_NAMES.containsKey(number)) {
            return false;
        }
        int scalar = switch (number) {
            case FLOAT_DATA -> WireFormat.WIRETYPE_FIXED32;
            case DOUBLE_DATA -> WireFormat.WIRETYPE_FIXED64;
            case STRING_DATA -> WireFormat.WIRETYPE_LENGTH_DELIMITED;
            default -> WireFormat.WIRETYPE_VARINT;
        };
        return wire == scalar || wire == WireFormat.WIRETYPE_LENGTH_DELIMITED;
    }

    /** Reads past one occurrence of a typed value field (packed or not) and returns how many values it held. */
    static long countValues(CodedInputStream in, int tag) throws IOException {
        int number = WireFormat.getTagFieldNumber(tag);
        int wire = WireFormat.getTagWireType(tag);
        if (number == STRING_DATA) {
            in.skipRawBytes(in.readRawVarint32());
            return 1;
        }
        if (wire != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            in.skipField(tag);
            return 1;
        }
        int length = in.readRawVarint32();
        if (number == FLOAT_DATA || number == DOUBLE_DATA) {
            int width = number == FLOAT_DATA ? 4 : 8;
            in.skipRawBytes(length);
            // a partial value makes protobuf refuse the tensor; count it as one more so the sizes disagree
            return (length + width - 1) / width;
        }
        int limit = in.pushLimit(length);
        long count = 0;
        while (in.getBytesUntilLimit() > 0) {
            in.readRawVarint64();
            count++;
        }
        in.popLimit(limit);
        return count;
    }

    /**
     * The bytes a tensor of this type and element count occupies in raw_data or external data, or -1 when
     * the type has no fixed raw size here (strings, types newer than rechannel knows).
     */
    static long rawSize(int dataType, long count) {
        return switch (dataType) {
            case 2, 3, 9, 17, 18, 19, 20, 24 -> count;                 // uint8, int8, bool, float8 kinds
            case 4, 5, 10, 16 -> Math.multiplyExact(count, 2);          // uint16, int16, float16, bfloat16
            case 1, 6, 12 -> Math.multiplyExact(count, 4);              // float, int32, uint32
            case 7, 11, 13, 14 -> Math.multiplyExact(count, 8);         // int64, double, uint64, complex64
            case 15 -> Math.multiplyExact(count, 16);                   // complex128
            case 21, 22, 23 -> count / 2 + count % 2;                   // uint4, int4, float4e2m1: two per byte
            default -> -1;
        };
    }

    /** The typed field holding values of this type, and how many entries it needs for {@code count} elements. */
    private static long[] typedField(int dataType, long count) {
        return switch (dataType) {
            case 1 -> new long[] {FLOAT_DATA, count};
            case 14 -> new long[] {FLOAT_DATA, Math.multiplyExact(count, 2)};
            case 2, 3, 4, 5, 6, 9, 10, 16, 17, 18, 19, 20, 24 -> new long[] {INT32_DATA, count};
            case 21, 22, 23 -> new long[] {INT32_DATA, count / 2 + count % 2};
            case 8 -> new long[] {STRING_DATA, count};
            case 7 -> new long[] {INT64_DATA, count};
            case 11 -> new long[] {DOUBLE_DATA, count};
            case 15 -> new long[] {DOUBLE_DATA, Math.multiplyExact(count, 2)};
            case 12, 13 -> new long[] {UINT64_DATA, count};
            default -> null;
        };
    }

    /** The element count of these dimensions; refuses negative ones and products past 2^63. */
    static long elementCount(Path file, String what, long[] dims) {
        long count = 1;
        for (long d : dims) {
            if (d < 0) {
                throw RechannelException.malformed(file + ": " + what + " has a negative dimension in dims "
                        + Arrays.toString(dims));
            }
            try {
                count = Math.multiplyExact(count, d);
            } catch (ArithmeticException e) {
                throw RechannelException.malformed(file + ": " + what + " has dims " + Arrays.toString(dims)
                        + " whose element count overflows");
            }
        }
        return count;
    }

    /**
     * Checks a tensor's shape against how its values are stored. External data is checked against the
     * data file separately ({@link OnnxExternalData}), with {@link #rawSize} as the length it must have.
     */
    static void check(Path file, String what, int dataType, long[] dims, Stored stored) {
        long count = elementCount(file, what, dims);
        String prefix = file + ": " + what + " ";
        long raw;
        try {
            raw = rawSize(dataType, count);
        } catch (ArithmeticException e) {
            throw RechannelException.malformed(prefix + "has dims " + Arrays.toString(dims) + " too large for its data type");
        }
        int inline = (stored.rawBytes() >= 0 ? 1 : 0) + stored.typed().size();
        if (stored.dataLocation() == EXTERNAL) {
            if (inline > 0) {
                throw RechannelException.malformed(prefix + "is stored externally and holds values in the file too");
            }
            return;
        }
        if (stored.dataLocation() != 0) {
            throw RechannelException.malformed(prefix + "has an unknown data_location " + stored.dataLocation());
        }
        if (dataType == 0) {
            throw RechannelException.malformed(prefix + "has no data type (UNDEFINED)");
        }
        if (count == 0) {
            return;
        }
        if (inline != 1) {
            throw RechannelException.malformed(prefix + (inline == 0 ? "holds no values" : "holds values in "
                    + inline + " fields; ONNX allows one") + " for dims " + Arrays.toString(dims));
        }
        if (stored.rawBytes() >= 0) {
            if (dataType == 8) {
                throw RechannelException.malformed(prefix + "is a string tensor with raw_data");
            }
            if (raw >= 0 && raw != stored.rawBytes()) {
                throw RechannelException.malformed(prefix + "holds " + stored.rawBytes() + " bytes of raw_data, but dims "
                        + Arrays.toString(dims) + " of data type " + dataType + " need " + raw);
            }
            return;
        }
        Map.Entry<Integer, Long> present = stored.typed().entrySet().iterator().next();
        long[] expected;
        try {
            expected = typedField(dataType, count);
        } catch (ArithmeticException e) {
            throw RechannelException.malformed(prefix + "has dims " + Arrays.toString(dims) + " too large for its data type");
        }
        if (expected == null) {
            return; // a data type newer than rechannel: its field is not known here, and rechannel never reads it
        }
        if (present.getKey() != expected[0]) {
            throw RechannelException.malformed(prefix + "of data type " + dataType + " holds its values in "
                    + FIELD_NAMES.get(present.getKey()) + ", not " + FIELD_NAMES.get((int) expected[0]));
        }
        if (present.getValue() != expected[1]) {
            throw RechannelException.malformed(prefix + "holds " + present.getValue() + " values in "
                    + FIELD_NAMES.get(present.getKey()) + ", but dims " + Arrays.toString(dims) + " need " + expected[1]);
        }
    }
}

package io.rechannel.torch;

import io.rechannel.core.HalfFloat;
import io.rechannel.core.Shapes;
import io.rechannel.format.NamedTensor;
import io.rechannel.format.TensorEdit;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The element types of stored tensors, under their safetensors name and their torch storage class.
 * Floating types are decoded to and encoded from doubles (the mixer's arithmetic); the others are
 * only copied.
 */
enum Dtype {
    F64("DoubleStorage", 8, true),
    F32("FloatStorage", 4, true),
    F16("HalfStorage", 2, true),
    BF16("BFloat16Storage", 2, true),
    I64("LongStorage", 8, false),
    I32("IntStorage", 4, false),
    I16("ShortStorage", 2, false),
    I8("CharStorage", 1, false),
    U8("ByteStorage", 1, false),
    BOOL("BoolStorage", 1, false),
    U16(null, 2, false),
    U32(null, 4, false),
    U64(null, 8, false),
    F8_E4M3("Float8_e4m3fnStorage", 1, false),
    F8_E5M2("Float8_e5m2Storage", 1, false),
    C64("ComplexFloatStorage", 8, false),
    C128("ComplexDoubleStorage", 16, false);

    private final String storage;
    private final int size;
    private final boolean floating;

    Dtype(String storage, int size, boolean floating) {
        this.storage = storage;
        this.size = size;
        this.floating = floating;
    }

    /** The type of a listed tensor. */
    static Dtype of(NamedTensor tensor) {
        return valueOf(tensor.dtype());
    }

    /** The bytes a listed tensor's values take. */
    static long bytes(NamedTensor tensor) {
        return Math.multiplyExact(tensor.elements(), of(tensor).size());
    }

    /** The bytes an edited tensor's values will take. */
    static long bytes(TensorEdit edit) {
        return Math.multiplyExact(Shapes.count(edit.shape()), of(edit.tensor()).size());
    }

    /** An edit's values, computed now and encoded in its tensor's type. */
    static byte[] encoded(TensorEdit edit) {
        double[] values = edit.collect();
        if (values.length != Shapes.count(edit.shape())) {
            throw new IllegalArgumentException(edit.tensor().name() + ": " + values.length + " values for shape "
                    + java.util.Arrays.toString(edit.shape()));
        }
        return of(edit.tensor()).encode(values);
    }

    /** Bytes per element. */
    int size() {
        return size;
    }

    /** True for the types the mixer reads and writes (F64, F32, F16, BF16). */
    boolean isFloating() {
        return floating;
    }

    /** The safetensors name ({@code F32}), or null when safetensors has none. */
    static Dtype ofSafetensors(String name) {
        for (Dtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** The type of a torch storage class ({@code FloatStorage}), or null. */
    static Dtype ofStorage(String className) {
        for (Dtype d : values()) {
            if (className.equals(d.storage)) {
                return d;
            }
        }
        return null;
    }

    /** Decodes {@code count} little-endian values starting at the buffer's position. */
    double[] decode(ByteBuffer bytes, int count) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = switch (this) {
                case F64 -> b.getDouble();
                case F32 -> b.getFloat();
                case F16 -> HalfFloat.toFloat(b.getShort());
                case BF16 -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
                default -> throw new IllegalStateException(this + " is not decoded");
            };
        }
        return values;
    }

    /**
     * Encodes values as little-endian elements of this type; narrower types go through float32 (as
     * torch converts), rounding to nearest, ties to even.
     */
    byte[] encode(double[] values) {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(values.length, size)).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            switch (this) {
                case F64 -> b.putDouble(v);
                case F32 -> b.putFloat((float) v);
                case F16 -> b.putShort(HalfFloat.fromFloat((float) v));
                case BF16 -> b.putShort(toBfloat16((float) v));
                default -> throw new IllegalStateException(this + " is not encoded");
            }
        }
        return b.array();
    }

    /** The value as stored in this type, for arithmetic that must round where the framework rounds. */
    double round(double v) {
        return switch (this) {
            case F64 -> v;
            case F32 -> (float) v;
            case F16 -> HalfFloat.toFloat(HalfFloat.fromFloat((float) v));
            case BF16 -> Float.intBitsToFloat((toBfloat16((float) v) & 0xffff) << 16);
            default -> throw new IllegalStateException(this + " is not rounded");
        };
    }

    static short toBfloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }
}

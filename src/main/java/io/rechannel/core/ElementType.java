package io.rechannel.core;

/**
 * The element type a tensor is stored in, and which computed values it can hold: a float type holds
 * any value that stays finite once rounded to it; an integer type only integers within its range.
 */
public record ElementType(boolean floating, boolean signed, int bits) {

    public static final ElementType FLOAT16 = new ElementType(true, true, 16);
    public static final ElementType FLOAT32 = new ElementType(true, true, 32);
    public static final ElementType FLOAT64 = new ElementType(true, true, 64);

    /** Doubles hold every integer up to 2^53 exactly; beyond, integer arithmetic in doubles is not exact. */
    private static final double EXACT_INTEGERS = 0x1p53;

    public ElementType {
        if (floating ? bits != 16 && bits != 32 && bits != 64 : bits != 8 && bits != 16 && bits != 32 && bits != 64) {
            throw new IllegalArgumentException((floating ? "float" : "integer") + " of " + bits + " bits");
        }
    }

    public static ElementType integer(int bits, boolean signed) {
        return new ElementType(false, signed, bits);
    }

    /**
     * Why a value read from a tensor cannot take part in exact arithmetic, or null: non-finite values
     * (a damaged or diverged model), 64-bit integers beyond what a double holds exactly.
     */
    public String sourceRefusal(double value) {
        if (!Double.isFinite(value)) {
            return "holds " + value;
        }
        if (!floating && Math.abs(value) > EXACT_INTEGERS) {
            return "holds the integer " + (long) value + ", too large to mix exactly";
        }
        return null;
    }

    /** Why a computed value cannot be stored in this type, or null when it can. */
    public String resultRefusal(double value) {
        if (floating) {
            boolean finite = switch (bits) {
                case 16 -> Float.isFinite(HalfFloat.toFloat(HalfFloat.fromFloat((float) value)));
                case 32 -> Float.isFinite((float) value);
                default -> Double.isFinite(value);
            };
            return finite ? null : "would hold " + value + (Double.isFinite(value) ? ", beyond the range of " + this : "");
        }
        if (!Double.isFinite(value) || value != Math.rint(value)) {
            return "would hold " + value + ", which " + this + " cannot store exactly";
        }
        double min = signed ? -Math.scalb(1.0, bits - 1) : 0;
        double limit = signed ? Math.scalb(1.0, bits - 1) : Math.scalb(1.0, bits);
        if (value < min || value >= limit || Math.abs(value) > EXACT_INTEGERS) {
            return "would hold " + (long) value + ", outside the range of " + this;
        }
        return null;
    }

    @Override
    public String toString() {
        return (floating ? "float" : signed ? "int" : "uint") + bits;
    }
}

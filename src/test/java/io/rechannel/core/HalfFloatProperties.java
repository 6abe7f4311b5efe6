package io.rechannel.core;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HalfFloatProperties {

    private static final int EXPONENT = 0x7c00;
    private static final int MANTISSA = 0x03ff;

    @Provide
    Arbitrary<Short> halvesThatAreNumbers() {
        return Arbitraries.shorts().filter(h -> (h & EXPONENT) != EXPONENT || (h & MANTISSA) == 0);
    }

    @Provide
    Arbitrary<Short> nanHalves() {
        return Combinators.combine(Arbitraries.integers().between(1, MANTISSA), Arbitraries.of(0, 0x8000))
                .as((mantissa, sign) -> (short) (sign | EXPONENT | mantissa));
    }

    /**
     * Floats up to the largest half, either sign: half of them uniform over bit patterns (every binade, float and
     * half subnormals alike), half within a few float steps of a midpoint between two neighbouring halves, where
     * rounding is decided by the last bits.
     */
    @Provide
    Arbitrary<Float> floatsUpToTheLargestHalf() {
        Arbitrary<Float> anywhere = Arbitraries.integers().between(0, Float.floatToIntBits(65504f)).map(Float::intBitsToFloat);
        Arbitrary<Float> nearTies = Combinators.combine(Arbitraries.integers().between(0, 0x7bfe), Arbitraries.integers().between(-3, 3))
                .as((half, steps) -> {
                    float midpoint = (HalfFloat.toFloat((short) (int) half) + HalfFloat.toFloat((short) (half + 1))) / 2;
                    for (int i = 0; i < Math.abs(steps); i++) {
                        midpoint = steps > 0 ? Math.nextUp(midpoint) : Math.nextDown(midpoint);
                    }
                    return midpoint;
                });
        return Combinators.combine(Arbitraries.oneOf(anywhere, nearTies), Arbitraries.of(1f, -1f)).as((value, sign) -> sign * value);
    }

    @Property(tries = 2000)
    void everyHalfThatIsANumberSurvivesTheRoundTrip(@ForAll("halvesThatAreNumbers") short half) {
        assertEquals(half, HalfFloat.fromFloat(HalfFloat.toFloat(half)));
    }

    @Property(tries = 200)
    void nanStaysNan(@ForAll("nanHalves") short half) {
        assertTrue(Float.isNaN(HalfFloat.toFloat(half)));
        assertTrue(Float.isNaN(HalfFloat.toFloat(HalfFloat.fromFloat(HalfFloat.toFloat(half)))));
    }

    /** The half chosen is at least as near as both its neighbours, and even where it is a tie. */
    @Property(tries = 5000)
    void roundingPicksTheNearestHalfTiesToEven(@ForAll("floatsUpToTheLargestHalf") float value) {
        short half = HalfFloat.fromFloat(value);
        int sign = half & 0x8000;
        int magnitude = half & 0x7fff;
        double error = Math.abs((double) value - HalfFloat.toFloat(half));
        for (int neighbour : new int[] {magnitude - 1, magnitude + 1}) {
            if (neighbour >= 0 && neighbour <= EXPONENT) {
                double other = Math.abs((double) value - HalfFloat.toFloat((short) (sign | neighbour)));
                assertTrue(error < other || error == other && (magnitude & 1) == 0,
                        value + " became " + HalfFloat.toFloat(half) + " (0x" + Integer.toHexString(half & 0xffff)
                                + "), but 0x" + Integer.toHexString(sign | neighbour) + " is nearer or an even tie");
            }
        }
    }
}

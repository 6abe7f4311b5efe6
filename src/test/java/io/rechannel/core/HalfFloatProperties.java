package io.rechannel.core;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.ShortRange;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HalfFloatProperties {

    @Property(tries = 2000)
    void everyFiniteHalfSurvivesTheRoundTrip(@ForAll @ShortRange(min = Short.MIN_VALUE, max = Short.MAX_VALUE) short half) {
        float value = HalfFloat.toFloat(half);
        if (!Float.isNaN(value)) {
            assertEquals(half, HalfFloat.fromFloat(value));
        }
    }

    @Property(tries = 500)
    void roundingPicksTheNearestHalf(@ForAll float value) {
        if (Float.isNaN(value) || Math.abs(value) > 65504f) {
            return;
        }
        float rounded = HalfFloat.toFloat(HalfFloat.fromFloat(value));
        // the nearest half is within half a unit in the last place: 2^-11 relative, or 2^-25 absolute near zero
        assertEquals(value, rounded, Math.max(Math.abs(value) * 0x1p-11f, 0x1p-25f));
    }
}

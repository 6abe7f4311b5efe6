package io.rechannel.transfer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --resize numpy} against numpy.resize on examples worked out by hand. */
class NumpyResizeTest {

    /** numpy.resize([[1, 2, 3], [4, 5, 6]], (3, 3)) == [[1, 2, 3], [4, 5, 6], [1, 2, 3]]. */
    @Test
    void twoByThreeToThreeByThree() {
        double[] a = {1, 2, 3, 4, 5, 6};
        assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6, 1, 2, 3}, ShapeRules.numpyResize(a, new long[] {3, 3}));
        // only the first axis grew: whole rows repeat, every value stays at its own index
        assertFalse(ShapeRules.scrambles(new long[] {2, 3}, new long[] {3, 3}));
        assertEquals(6, ShapeRules.keptInPlace(new long[] {2, 3}, new long[] {3, 3}));
    }

    /** numpy.resize([[1, 2, 3], [4, 5, 6]], (2, 2)) == [[1, 2], [3, 4]]: a shrink takes the first values. */
    @Test
    void aShrinkTakesTheFirstValues() {
        assertArrayEquals(new double[] {1, 2, 3, 4}, ShapeRules.numpyResize(new double[] {1, 2, 3, 4, 5, 6}, new long[] {2, 2}));
    }

    /**
     * A (3, 3, 3, 2) HWIO kernel holding 0..53 in row-major order, numpy.resize'd to (3, 3, 4, 2): the flat
     * values 0..53 then 0..17 again. So at spatial position (0, 0) the four input channels hold
     * [0 1], [2 3], [4 5], [6 7] — the fourth channel took position (0, 1)'s first channel — and position
     * (2, 2), the last, holds flat elements 64..71, which are 10..17.
     */
    @Test
    void anHwioKernelGainsAnInputChannel() {
        double[] kernel = new double[54];
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] = i;
        }
        double[] resized = ShapeRules.numpyResize(kernel, new long[] {3, 3, 4, 2});
        assertEquals(72, resized.length);
        assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5, 6, 7}, java.util.Arrays.copyOfRange(resized, 0, 8));
        // position (0, 1) starts at flat 8: [8 9] [10 11] [12 13] [14 15]; in the original it began at 6
        assertArrayEquals(new double[] {8, 9, 10, 11, 12, 13, 14, 15}, java.util.Arrays.copyOfRange(resized, 8, 16));
        assertArrayEquals(new double[] {10, 11, 12, 13, 14, 15, 16, 17}, java.util.Arrays.copyOfRange(resized, 64, 72));
        assertArrayEquals(new double[] {48, 49, 50, 51, 52, 53, 0, 1}, java.util.Arrays.copyOfRange(resized, 48, 56));
        assertTrue(ShapeRules.scrambles(new long[] {3, 3, 3, 2}, new long[] {3, 3, 4, 2}));
        // only position (0, 0)'s three channels (6 values) stay where they were: a ninth of 54
        assertEquals(6, ShapeRules.keptInPlace(new long[] {3, 3, 3, 2}, new long[] {3, 3, 4, 2}));
    }

    /** numpy.resize of an empty array fills with zeros. */
    @Test
    void anEmptyArrayGivesZeros() {
        assertArrayEquals(new double[] {0, 0, 0}, ShapeRules.numpyResize(new double[0], new long[] {3}));
    }

    /** --head overlap: the shared block index for index, the target's own values elsewhere. */
    @Test
    void overlapCopiesTheSharedBlock() {
        double[] pretrained = {1, 2, 3, 4, 5, 6}; // (2, 3)
        double[] target = {-1, -2, -3, -4, -5, -6}; // (3, 2)
        assertArrayEquals(new double[] {1, 2, 4, 5, -5, -6},
                ShapeRules.overlap(pretrained, new long[] {2, 3}, target, new long[] {3, 2}));
        assertEquals(4, ShapeRules.overlapSize(new long[] {2, 3}, new long[] {3, 2}));
    }
}

package io.rechannel.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChannelMapParserTest {

    private static final ChannelLayout RGB = ChannelLayout.parse("RGB");
    private static final ChannelLayout RGBY = ChannelLayout.parse("RGBY");

    private static double[][] matrix(String to, String... inits) {
        return ChannelMap.build(RGB, ChannelLayout.parse(to), List.of(inits), 0).matrix();
    }

    @Test
    void copyOfANamedChannel() {
        assertArrayEquals(new double[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 1}}, matrix("RGBY", "Y=B"));
        assertArrayEquals(matrix("RGBY", "Y=B"), matrix("RGBY", "copy-last"));
    }

    @Test
    void zerosMeanSumAndCombinations() {
        assertArrayEquals(new double[] {0, 0, 0}, matrix("RGBY", "Y=0")[3]);
        assertArrayEquals(new double[] {1.0 / 3, 1.0 / 3, 1.0 / 3}, matrix("RGBY", "Y=mean")[3]);
        assertArrayEquals(new double[] {1, 1, 1}, matrix("RGBY", "Y=sum")[3]);
        assertArrayEquals(new double[] {0.5, 0.5, 0}, matrix("RGBY", "Y=0.5*R+0.5*G")[3]);
        assertArrayEquals(new double[] {1, -2, 0}, matrix("RGBY", "Y=R-G*2")[3]);
        assertArrayEquals(new double[] {0.299, 0.587, 0.114}, matrix("L", "L=0.299*R+0.587*G+0.114*B")[0]);
    }

    @Test
    void defaultIsMeanForAddedChannelsAndAGrayEquivalentWhenNoneIsKept() {
        assertArrayEquals(new double[] {1.0 / 3, 1.0 / 3, 1.0 / 3}, matrix("RGBY")[3]);
        assertArrayEquals(new double[][] {{1, 1, 1}}, matrix("L"));
        assertArrayEquals(new double[][] {{0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}}, matrix("XZ"));
        double[][] grayToRgby = ChannelMap.build(ChannelLayout.parse("L"), RGBY, List.of(), 0).matrix();
        assertArrayEquals(new double[][] {{0.25}, {0.25}, {0.25}, {0.25}}, grayToRgby);
    }

    @Test
    void timmCyclesAndRescales() {
        assertArrayEquals(new double[][] {{0.75, 0, 0}, {0, 0.75, 0}, {0, 0, 0.75}, {0.75, 0, 0}}, matrix("4", "timm"));
        assertArrayEquals(new double[][] {{1, 1, 1}}, matrix("1", "timm"));
        assertArrayEquals(new double[][] {{1.5, 0, 0}, {0, 1.5, 0}}, matrix("2", "timm"));
    }

    @Test
    void reorderAndDrop() {
        assertArrayEquals(new double[][] {{0, 0, 1}, {0, 1, 0}, {1, 0, 0}}, matrix("BGR"));
        assertArrayEquals(new double[][] {{1, 0, 0}, {0, 0, 1}}, matrix("RB"));
    }

    @Test
    void randomChannelsAreFresh() {
        ChannelMap map = ChannelMap.build(RGB, RGBY, List.of("Y=random"), 7);
        assertTrue(map.isFresh(3));
        assertEquals(-1, map.copiedFrom(3));
    }

    @Test
    void longNamesAndAliases() {
        ChannelMap map = ChannelMap.build(RGB, ChannelLayout.parse("red,green,blue,yellow"), List.of("yellow=blue"), 0);
        assertArrayEquals(new double[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 1}}, map.matrix());
    }

    @Test
    void badRulesAreNamed() {
        RechannelException unknown = assertThrows(RechannelException.class, () -> matrix("RGBY", "Y=Q"));
        assertTrue(unknown.getMessage().contains("unknown channel 'Q'"), unknown.getMessage());
        RechannelException target = assertThrows(RechannelException.class, () -> matrix("RGBY", "Z=B"));
        assertTrue(target.getMessage().contains("'Z' is not one of the new channels"), target.getMessage());
        assertThrows(RechannelException.class, () -> matrix("RGBY", "Y=B+"));
        assertThrows(RechannelException.class, () -> matrix("RGBY", "bogus"));
        assertThrows(RechannelException.class, () -> ChannelLayout.parse("RGBR"));
    }
}

package io.rechannel.core;

import io.rechannel.verify.Verifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Only finite numbers go in, only numbers the tensor's type holds exactly come out, and NaN never verifies. */
class NumericSafetyTest {

    private static final ChannelLayout RGB = ChannelLayout.parse("RGB");
    private static final ChannelLayout RGBY = ChannelLayout.parse("RGBY");
    /** A 1×1 kernel, 3 input channels, 2 filters: HWIO (1, 1, 3, 2). */
    private static final AxisView VIEW = AxisView.whole(1, 3, 2);

    @ParameterizedTest
    @ValueSource(strings = {"Y=1e400*R", "Y=R*1e400", "Y=1e300*R*1e300", "Y=1e308*R+1e308*R", "Y=-1e400*G"})
    void nonFiniteCoefficientsAreRefusedWhenParsed(String rule) {
        RechannelException e = assertThrows(RechannelException.class,
                () -> ChannelMap.build(RGB, RGBY, List.of(rule), 0));
        assertEquals(RechannelException.Kind.USAGE, e.kind());
        assertTrue(e.getMessage().startsWith("option 'init' " + rule + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("finite"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"Y=mean:Infinity,std:1", "Y=mean:NaN,std:NaN", "Y=mean:0.1,std:NaN", "Y=mean:NaN,std:1",
        "Y=mean:0,std:0", "Y=mean:0,std:-1", "Y=mean:0,std:Infinity", "Y=mean:0,std:1e200", "Y=mean:0,std:1e-200",
        "Y=mean:0,var:NaN", "Y=mean:0,var:-1", "Y=mean:-Infinity,std:1"})
    void nonFiniteOrNonPositiveStatisticsAreRefused(String rule) {
        RechannelException e = assertThrows(RechannelException.class, () -> ChannelStats.parse(List.of(rule)));
        assertEquals(RechannelException.Kind.USAGE, e.kind());
        assertTrue(e.getMessage().startsWith("option 'stats' " + rule + ": "), e.getMessage());
    }

    @Test
    void finiteStatisticsAreKept() {
        assertEquals(new ChannelStats(0.08, 0.12), ChannelStats.parse(List.of("Y=mean:0.08,std:0.12")).get("Y"));
    }

    private static double[] mix(double[] old, ElementType type, String... rules) {
        ChannelMap map = ChannelMap.build(RGB, RGBY, List.of(rules), 0);
        TensorLayout layout = TensorLayout.of(VIEW);
        double[] out = new double[8];
        ChannelMixer.mix(layout, Mixing.kernel(map, 0), Blocks.reader(old, layout.shape()),
                Blocks.writer(out, layout.withChannels(4).shape()), type, "model.h5: conv/kernel", 1);
        return out;
    }

    @ParameterizedTest
    @CsvSource({"NaN", "Infinity", "-Infinity"})
    void aSourceHoldingNaNOrInfinityIsRefusedAsDamaged(double bad) {
        RechannelException e = assertThrows(RechannelException.class,
                () -> mix(new double[] {1, 2, 3, bad, 5, 6}, ElementType.FLOAT32, "Y=B"));
        assertEquals(RechannelException.Kind.MALFORMED_FILE, e.kind());
        assertTrue(e.getMessage().startsWith("model.h5: conv/kernel holds " + bad), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"float32, Y=1e38*R, 10", "float32, Y=3e38*R+3e38*G, 1", "float16, Y=1000*R, 100", "float64, Y=1e300*R, 1e10"})
    void aResultBeyondTheTypesRangeIsRefusedNamingTheTensor(String type, String rule, double value) {
        ElementType element = switch (type) {
            case "float16" -> ElementType.FLOAT16;
            case "float32" -> ElementType.FLOAT32;
            default -> ElementType.FLOAT64;
        };
        RechannelException e = assertThrows(RechannelException.class,
                () -> mix(new double[] {value, value, value, value, value, value}, element, rule));
        assertEquals(RechannelException.Kind.INEXACT, e.kind());
        assertTrue(e.getMessage().startsWith("model.h5: conv/kernel (" + type + ") would hold "), e.getMessage());
    }

    private static final double[] INTEGERS = {1, 2, 4, 8, 15, 32};

    @ParameterizedTest
    @CsvSource({"8, true, Y=mean", "8, true, Y=0.5*R", "32, true, mean", "8, false, Y=R-G", "8, true, Y=100*R",
        "8, false, Y=10*B", "16, true, Y=2000*B"})
    void integerTensorsRefuseMapsThatCannotBeExact(int bits, boolean signed, String rule) {
        RechannelException e = assertThrows(RechannelException.class,
                () -> mix(INTEGERS, ElementType.integer(bits, signed), rule));
        assertEquals(RechannelException.Kind.INEXACT, e.kind());
        assertTrue(e.getMessage().startsWith("model.h5: conv/kernel (" + (signed ? "int" : "uint") + bits + ") would hold "),
                e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"8, true, Y=B, '1,2,4,8,15,32,15,32'", "8, false, Y=0, '1,2,4,8,15,32,0,0'",
        "8, true, Y=sum, '1,2,4,8,15,32,20,42'", "8, true, Y=R-2*G+B, '1,2,4,8,15,32,8,18'",
        "32, true, Y=1000*R, '1,2,4,8,15,32,1000,2000'"})
    void integerTensorsTakeExactMaps(int bits, boolean signed, String rule, String expected) {
        double[] want = java.util.Arrays.stream(expected.split(",")).mapToDouble(Double::parseDouble).toArray();
        assertArrayEquals(want, mix(INTEGERS, ElementType.integer(bits, signed), rule));
    }

    @Test
    void reorderingIntegerChannelsIsExact() {
        ChannelMap map = ChannelMap.build(RGB, ChannelLayout.parse("BGR"), List.of(), 0);
        TensorLayout layout = TensorLayout.of(VIEW);
        double[] out = new double[6];
        ChannelMixer.mix(layout, Mixing.kernel(map, 0), Blocks.reader(INTEGERS, layout.shape()),
                Blocks.writer(out, layout.shape()), ElementType.integer(8, false), "t", 2);
        assertArrayEquals(new double[] {15, 32, 4, 8, 1, 2}, out);
    }

    @ParameterizedTest
    @CsvSource({"NaN, 1", "1, NaN", "Infinity, Infinity", "1, Infinity"})
    void nonFiniteKernelsNeverVerify(double inOld, double inNew) {
        ChannelMap map = ChannelMap.build(RGB, RGBY, List.of("Y=B"), 0);
        double[] old = {1, 2, 3, 4, inOld, 6};
        double[] adapted = {1, 2, 3, 4, inNew, 6, inNew, 6};
        Verifier.TapCheck check = Verifier.checkTaps(old, VIEW, adapted, VIEW.withCount(4), map, 1);
        assertFalse(check.finite());
        assertFalse(check.passed());
    }

    @Test
    void aKernelMixedWithInfinityNeverVerifiesNorRecovers() {
        double[] old = {1, 2, 3, 4, 5, 6};
        double[] adapted = {1, 2, 3, 4, 5, 6, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
        RechannelException e = assertThrows(RechannelException.class,
                () -> Verifier.recover(old, VIEW, adapted, VIEW.withCount(4), RGB, RGB.resized(4)));
        assertEquals(RechannelException.Kind.INEXACT, e.kind());
        assertTrue(e.getMessage().contains("NaN or infinity"), e.getMessage());
    }

    @Test
    void finiteExactKernelsStillVerify() {
        ChannelMap map = ChannelMap.build(RGB, RGBY, List.of("Y=B"), 0);
        double[] old = {1, 2, 3, 4, 5, 6};
        Verifier.TapCheck check = Verifier.checkTaps(old, VIEW, ChannelMixer.mixWeight(old, VIEW, map, 0),
                VIEW.withCount(4), map, 1);
        assertTrue(check.finite());
        assertTrue(check.passed(), check.toString());
    }

    @ParameterizedTest
    @CsvSource({"8, true, -128, true", "8, true, 127, true", "8, true, 128, false", "8, true, -129, false",
        "8, false, 255, true", "8, false, 256, false", "8, false, -1, false", "16, true, 32767, true",
        "16, false, 65536, false", "32, true, 2147483647, true", "32, true, 2147483648, false", "32, false, 4294967295, true",
        "64, true, 9007199254740992, true", "64, true, 9007199254740994, false", "8, true, 0.5, false", "8, true, NaN, false"})
    void integerTypesHoldExactlyTheIntegersOfTheirRange(int bits, boolean signed, double value, boolean held) {
        assertEquals(held, ElementType.integer(bits, signed).resultRefusal(value) == null, String.valueOf(value));
    }

    @ParameterizedTest
    @CsvSource({"16, 65504, true", "16, 65520, false", "32, 3.4028234663852886e38, true", "32, 3.5e38, false",
        "64, 1.7976931348623157e308, true", "64, Infinity, false", "32, NaN, false"})
    void floatTypesHoldWhatStaysFiniteOnceRounded(int bits, double value, boolean held) {
        ElementType type = bits == 16 ? ElementType.FLOAT16 : bits == 32 ? ElementType.FLOAT32 : ElementType.FLOAT64;
        assertEquals(held, type.resultRefusal(value) == null, String.valueOf(value));
    }

    @Test
    void sixtyFourBitIntegersBeyondWhatADoubleHoldsExactlyAreNotMixed() {
        RechannelException e = assertThrows(RechannelException.class, () -> ChannelMixer.checkSource(
                new double[] {1, 0x1p60}, ElementType.integer(64, true), "t"));
        assertEquals(RechannelException.Kind.INEXACT, e.kind());
    }
}

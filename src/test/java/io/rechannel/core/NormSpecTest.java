package io.rechannel.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@code --norm}: timm's presets, one's own MEAN/STD, and what is refused. */
class NormSpecTest {

    @Test
    void presetsAreTimmsConstantsOnZeroToOneImages() {
        NormSpec imagenet = NormSpec.parse("ImageNet");
        assertEquals(List.of(0.485, 0.456, 0.406), imagenet.mean());
        assertEquals(List.of(0.229, 0.224, 0.225), imagenet.std());
        assertEquals("0-1", imagenet.units());
        assertEquals("imagenet", imagenet.toString());
        assertEquals(List.of(0.5, 0.5, 0.5), NormSpec.parse("inception").std());
        assertEquals(List.of(0.48145466, 0.4578275, 0.40821073), NormSpec.parse("clip").mean());
    }

    @Test
    void meanSlashStdInTheModelsChannelOrderAndOneValueForEveryChannel() {
        NormSpec own = NormSpec.parse("103.939,116.779,123.68/1");
        assertEquals(List.of(103.939, 116.779, 123.68), own.meanFor(3, "m"));
        assertEquals(List.of(1.0, 1.0, 1.0), own.stdFor(3, "m"));
        assertEquals("custom", own.name());
        assertEquals("103.939,116.779,123.68/1", own.toString());
        RechannelException e = assertThrows(RechannelException.class, () -> own.meanFor(4, "m.onnx"));
        assertEquals("m.onnx: option 'norm' 103.939,116.779,123.68/1 gives 3 values per statistic, but the model's input has 4"
                + " channels", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "imagenett; option 'norm' imagenett: give imagenet, inception, clip or MEAN/STD (e.g. 0.485,0.456,0.406/0.229,0.224,0.225)",
        "0.5/0; option 'norm' 0.5/0: 0 is not a positive finite number (a std divides)",
        "0.5/-1; option 'norm' 0.5/-1: -1 is not a positive finite number (a std divides)",
        "NaN/1; option 'norm' NaN/1: NaN is not a finite number",
        "0.5/Infinity; option 'norm' 0.5/Infinity: Infinity is not a positive finite number (a std divides)",
        "0.5,x/1; option 'norm' 0.5,x/1: 'x' is not a number",
        "1,2/3,4,5; option 'norm' 1,2/3,4,5: 2 means but 3 stds"})
    void refusals(String spec, String message) {
        RechannelException e = assertThrows(RechannelException.class, () -> NormSpec.parse(spec));
        assertEquals(RechannelException.Kind.USAGE, e.kind());
        assertEquals(message, e.getMessage());
    }
}

package io.rechannel.format;

import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The known conventions give every format the same numbers; three-channel constants fit three channels only. */
class ConventionTest {

    @Test
    void constantsPerChannel() {
        assertEquals(List.of(103.939, 116.779, 123.68), InputContract.Convention.CAFFE.mean(3));
        assertEquals(List.of(1.0, 1.0, 1.0), InputContract.Convention.CAFFE.std(3));
        assertEquals(List.of(127.5, 127.5, 127.5, 127.5), InputContract.Convention.TF.mean(4));
        assertEquals(List.of(58.395, 57.12, 57.375), InputContract.Convention.TORCH.std(3));
        assertNull(InputContract.Convention.TORCH.mean(4));
        assertNull(InputContract.Convention.UNKNOWN.mean(3));
    }

    @Test
    void aConventionWithoutConstantsForTheChannelsIsUnknownPreprocessing() {
        InputContract four = InputContract.of("x", "channels_last", List.of("a", "b", "c", "d"), InputContract.Convention.CAFFE,
                "0-255", List.of(), List.of());
        assertEquals("caffe", four.convention());
        assertEquals("unknown", four.units());
        assertNull(four.mean());
        assertNull(four.std());
    }

    /** BGR caffe means, extended to R, G, B, Y with Y = B: each kept channel keeps its own, Y takes B's. */
    @Test
    void extendedByTheChannelMap() {
        InputContract bgr = InputContract.of("x", "channels_last", List.of("B", "G", "R"), InputContract.Convention.CAFFE,
                "0-255", List.of(), List.of());
        ChannelMap map = ChannelMap.build(ChannelLayout.parse("BGR"), ChannelLayout.parse("RGBY"), List.of("Y=B"), 0);
        InputContract rgby = bgr.extended(map, List.of("feed R,G,B,Y"));
        assertEquals(List.of("R", "G", "B", "Y"), rgby.channels());
        assertEquals(List.of(123.68, 116.779, 103.939, 103.939), rgby.mean());
        assertEquals(List.of(1.0, 1.0, 1.0, 1.0), rgby.std());
        assertEquals(List.of("feed R,G,B,Y"), rgby.notes());
    }
}

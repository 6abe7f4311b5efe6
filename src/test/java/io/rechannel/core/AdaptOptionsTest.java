package io.rechannel.core;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Options built fluently, with defaults for what is not said; messages speak of the options by name. */
class AdaptOptionsTest {

    @Test
    void fluentOptionsHoldWhatWasSaidAndDefaultsElsewhere() {
        AdaptOptions options = AdaptOptions.to("RGBY").from("BGR").init("Y=B");
        assertEquals(ChannelLayout.parse("RGBY"), options.to());
        assertEquals(ChannelLayout.parse("BGR"), options.from());
        assertEquals(List.of("Y=B"), options.inits());
        assertNull(options.map());
        assertEquals(0, options.seed());
        assertNull(options.input());
        assertEquals(Set.of(), options.channelIndependent());
        assertEquals(Map.of(), options.stats());
        assertFalse(options.dropsOptimizer());
        assertFalse(options.overwrites());
        assertSame(FormatOptions.NONE, options.formatOptions());
        assertSame(ProgressListener.SILENT, options.progress());
    }

    @Test
    void everyChoiceHasItsOwnMethod() {
        ProgressListener listener = (task, total) -> ProgressListener.Task.NONE;
        AdaptOptions options = AdaptOptions.to("4").init("timm").init("c3=0").seed(7).input("image")
                .channelIndependent("lambda").stats("c3", new ChannelStats(0.5, 0.25)).dropOptimizer().overwrite()
                .formatOptions(FormatOptions.layer("conv1").withConfig(Path.of("m.keras"))).progress(listener);
        assertEquals(List.of("timm", "c3=0"), options.inits());
        assertEquals(7, options.seed());
        assertEquals("image", options.input());
        assertEquals(Set.of("lambda"), options.channelIndependent());
        assertEquals(Map.of("c3", new ChannelStats(0.5, 0.25)), options.stats());
        assertTrue(options.dropsOptimizer());
        assertTrue(options.overwrites());
        assertEquals(new FormatOptions("conv1", Path.of("m.keras"), List.of()), options.formatOptions());
        assertSame(listener, options.progress());
    }

    @Test
    void theFluentOptionsBuildTheSameMapAsTheRules() {
        ChannelMap map = AdaptOptions.to("RGBY").from("BGR").init("Y=B").channelMap(3, "m.h5");
        assertEquals(ChannelMap.build(ChannelLayout.parse("BGR"), ChannelLayout.parse("RGBY"), List.of("Y=B"), 0), map);
    }

    @Test
    void aChannelMapIsPassedAsItIs() {
        ChannelMap map = ChannelMap.ofMatrix(ChannelLayout.parse("RGB"), ChannelLayout.parse("RGBY"),
                new double[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.5, 0.5, 0}});
        AdaptOptions options = AdaptOptions.of(map);
        assertTrue(options.hasMap());
        assertSame(map, options.channelMap(3, "m.h5"));
        assertSame(map, AdaptOptions.defaults().map(map).changingMap(3, "m.h5"));
        assertEquals(ChannelLayout.parse("RGB"), options.fromLayout(3));
        RechannelException wrongCount = assertThrows(RechannelException.class, () -> options.channelMap(1, "m.h5"));
        assertEquals(RechannelException.Kind.USAGE, wrongCount.kind());
        assertEquals("m.h5: option 'map' maps 3 channels but the model's input has 1", wrongCount.getMessage());
        RechannelException both = assertThrows(RechannelException.class,
                () -> AdaptOptions.to("RGBY").map(map).channelMap(3, "m.h5"));
        assertEquals("option 'map' given together with option 'to'; give either the map or what builds it", both.getMessage());
    }

    @Test
    void aMapThatChangesNothingIsRefusedForExtendOnly() {
        AdaptOptions same = AdaptOptions.to("RGB");
        assertTrue(same.channelMap(3, "m.h5").isIdentity());
        RechannelException e = assertThrows(RechannelException.class, () -> same.changingMap(3, "m.h5"));
        assertEquals("m.h5: the channel map RGB -> RGB keeps every channel as it is; nothing to do", e.getMessage());
    }

    @Test
    void messagesNameOptionsNotFlags() {
        RechannelException noTarget = assertThrows(RechannelException.class,
                () -> AdaptOptions.defaults().channelMap(3, "m.h5"));
        assertEquals("option 'to' is required: the channels the new model takes", noTarget.getMessage());
        RechannelException stats = assertThrows(RechannelException.class,
                () -> AdaptOptions.to("RGBY").stats("Q", new ChannelStats(0, 1)).channelMap(3, "m.h5"));
        assertEquals("option 'stats' Q: not one of the new channels RGBY", stats.getMessage());
        RechannelException unused = assertThrows(RechannelException.class, () -> AdaptOptions.to("RGBY")
                .formatOptions(FormatOptions.tensors("conv1.weight")).refuseUnused("m.h5", "Keras", Set.of(OptionName.LAYER)));
        assertEquals("m.h5: option 'tensors' does not apply to Keras files", unused.getMessage());
        RechannelException badStats = assertThrows(RechannelException.class, () -> new ChannelStats(0, -1));
        assertTrue(badStats.getMessage().startsWith("option 'stats': the std -1.0 must be"), badStats.getMessage());
    }

    @Test
    void thePositionalConstructorsStillServe() {
        AdaptOptions options = new AdaptOptions(null, ChannelLayout.parse("RGBY"), List.of("Y=B"), 3, null, Set.of(),
                Map.of(), true, "conv1", null, List.of("w"));
        assertEquals(new FormatOptions("conv1", null, List.of("w")), options.formatOptions());
        assertTrue(options.dropsOptimizer());
        assertFalse(options.overwrites());
        assertEquals(AdaptOptions.to("RGBY").init("Y=B").seed(3).dropOptimizer()
                .formatOptions(new FormatOptions("conv1", null, List.of("w"))), options);
    }
}

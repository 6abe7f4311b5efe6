package io.rechannel.graph;

import io.rechannel.core.ChannelLayout;
import io.rechannel.core.ChannelMap;
import io.rechannel.core.RechannelException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The raw input read directly and through concatenations: where its channels sit in every consumer. */
class ConcatenateAnalysisTest {

    private static final long[] X = {-1, 8, 8, 3};

    private static Node input() {
        return Node.input("x", X, null);
    }

    private static Node conv(String id, String input) {
        return new Node(id, "Conv2D", NodeRole.MIXES_CHANNELS, List.of(input), null, ChannelAxis.LAST, null, null);
    }

    private static Node perChannel(String id, String input) {
        return new Node(id, "ReLU", NodeRole.PER_CHANNEL, List.of(input), null, null, null, null);
    }

    private static Node concat(String id, int axis, List<String> inputs, long... channels) {
        List<long[]> shapes = java.util.Arrays.stream(channels).mapToObj(c -> c < 0 ? null : new long[] {-1, 8, 8, c}).toList();
        return new Node(id, "Concatenate", NodeRole.CONCAT, inputs, shapes, null, axis, null);
    }

    private static Map<String, Segment> consumers(List<Node> nodes) {
        ChannelAnalysis analysis = new ChannelAnalysis(new ModelGraph(nodes), Set.of(), "test");
        return analysis.analyse(analysis.chooseInput("x"), 3).consumers().stream()
                .collect(Collectors.toMap(c -> c.node().id(), Consumer::segment));
    }

    @Test
    void inputReadDirectlyAndThroughTheConcatenationOfItsOwnConvolutions() {
        // the model: x -> a, x -> b, concat([x, a(x), b(x)]) -> c
        Map<String, Segment> found = consumers(List.of(input(), conv("a", "x"), conv("b", "x"),
                concat("cat", -1, List.of("x", "a", "b"), 3, 8, 8), conv("c", "cat")));
        assertEquals(Set.of("a", "b", "c"), found.keySet());
        assertEquals(new Segment(ChannelAxis.LAST, 0, 3, false), found.get("a"));
        assertEquals(new Segment(ChannelAxis.LAST, 0, 19, false), found.get("c"));
    }

    @Test
    void laterInputsShiftTheSliceAndTheInputMayAppearTwice() {
        Map<String, Segment> found = consumers(List.of(input(), conv("a", "x"), perChannel("relu", "x"),
                concat("inner", -1, List.of("a", "x"), 8, 3),
                concat("outer", -1, List.of("inner", "relu", "x"), 11, 3, 3), conv("c", "outer"), conv("d", "inner")));
        assertEquals(new Segment(ChannelAxis.LAST, 8, 11, false), found.get("d"));
        assertEquals(new Segment(ChannelAxis.LAST, List.of(8, 11, 14), 17, false), found.get("c"));
        assertEquals(List.of(0, 3, 6), consumers(List.of(input(), concat("twice", -1, List.of("x", "x", "x"), 3, 3, 3),
                conv("c", "twice"))).get("c").offsets());
    }

    @Test
    void channelsFirstConcatenationUsesAxisOne() {
        Node x = Node.input("x", new long[] {-1, 3, 8, 8}, null);
        Node a = new Node("a", "Conv2D", NodeRole.MIXES_CHANNELS, List.of("x"), null, ChannelAxis.FIRST, null, null);
        Node cat = new Node("cat", "Concatenate", NodeRole.CONCAT, List.of("a", "x"),
                List.of(new long[] {-1, 5, 8, 8}, new long[] {-1, 3, 8, 8}), null, 1, null);
        Node c = new Node("c", "Conv2D", NodeRole.MIXES_CHANNELS, List.of("cat"), null, ChannelAxis.FIRST, null, null);
        Map<String, Segment> found = consumers(List.of(x, a, cat, c));
        assertEquals(new Segment(ChannelAxis.FIRST, 5, 8, false), found.get("c"));
    }

    @Test
    void anUnrecordedWidthBeforeTheInputIsRefusedButAfterItIsNotNeeded() {
        RechannelException e = assertThrows(RechannelException.class, () -> consumers(List.of(input(), conv("a", "x"),
                concat("cat", -1, List.of("a", "x"), -1, 3), conv("c", "cat"))));
        assertEquals(RechannelException.Kind.UNSUPPORTED, e.kind());
        assertTrue(e.getMessage().contains("'cat' concatenates input 2 after a tensor whose channel count"), e.getMessage());
        assertEquals(new Segment(ChannelAxis.LAST, 0, -1, false), consumers(List.of(input(), conv("a", "x"),
                concat("cat", -1, List.of("x", "a"), 3, -1), conv("c", "cat"))).get("c"));
    }

    @Test
    void aConcatenationWaitingOnAnUnreadableLayerNamesThatLayer() {
        Node lambda = new Node("lambda", "Lambda", NodeRole.OPAQUE, List.of("x"), null, null, null, null);
        RechannelException e = assertThrows(RechannelException.class, () -> consumers(List.of(input(), lambda,
                concat("cat", -1, List.of("x", "lambda"), 3, 3), conv("c", "cat"))));
        assertEquals(RechannelException.Kind.AMBIGUOUS_CHANNELS, e.kind());
        assertTrue(e.getMessage().startsWith("test: 'lambda' (Lambda) between input 'x'"), e.getMessage());
    }

    @Test
    void dimensionReadersAreRecordedNotRefused() {
        Node shape = new Node("shape", "Shape", NodeRole.DIMENSIONS, List.of("relu"), null, null, null, null);
        ChannelAnalysis analysis = new ChannelAnalysis(new ModelGraph(List.of(input(), perChannel("relu", "x"), shape,
                conv("c", "relu"))), Set.of(), "test");
        ChannelDependency d = analysis.analyse(analysis.chooseInput(null), 3);
        assertEquals(List.of("shape"), d.dimensions().stream().map(c -> c.node().id()).toList());
        assertEquals(new Segment(ChannelAxis.LAST, 0, 3, false), d.dimensions().get(0).segment());
    }

    @Test
    void severalSlicesMixEachSliceAndKeepTheChannelsBetween() {
        ChannelMap map = ChannelMap.build(ChannelLayout.parse("RGB"), ChannelLayout.parse("RGBY"), List.of("Y=0.5*R+0.5*B"), 0);
        Segment segment = new Segment(ChannelAxis.LAST, List.of(2, 7), 12, false);
        ChannelMap sliced = segment.map(map);
        assertEquals(8, sliced.oldCount()); // channels 2..9 of 12: R G B ~5 ~6 R G B
        assertEquals(10, sliced.newCount());
        double[][] expected = {
                {1, 0, 0, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0, 0, 0}, {0, 0, 1, 0, 0, 0, 0, 0}, {0.5, 0, 0.5, 0, 0, 0, 0, 0},
                {0, 0, 0, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 0, 0, 0},
                {0, 0, 0, 0, 0, 1, 0, 0}, {0, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0.5, 0, 0.5}};
        for (int j = 0; j < expected.length; j++) {
            assertArrayEquals(expected[j], sliced.matrix()[j], "row " + j);
        }
        assertEquals("R,G,B,Y,~3,~4,R#1,G#1,B#1,Y#1", sliced.to().toString());
        assertEquals(List.of(1.0, 1.0), List.of(sliced.stateWeights()[4][3], sliced.constantWeights()[5][4]),
                "channels between the slices keep their state and constants");
        assertEquals(18, segment.resized(12, 3, 6));
        assertEquals("2..4, 7..9", segment.describe(3));
        assertEquals(map, new Segment(ChannelAxis.LAST, 2, 12, false).map(map));
    }
}

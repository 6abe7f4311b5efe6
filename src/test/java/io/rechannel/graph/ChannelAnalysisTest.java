package io.rechannel.graph;

import io.rechannel.core.RechannelException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The analysis on small hand-made graphs, independent of any file format. */
class ChannelAnalysisTest {

    private static Node node(String id, NodeRole role, ChannelAxis axis, String... inputs) {
        return new Node(id, role.name(), role, List.of(inputs), null, axis, null, null);
    }

    private static ChannelDependency analyse(List<Node> nodes, Set<String> independent) {
        ChannelAnalysis analysis = new ChannelAnalysis(new ModelGraph(nodes), independent, "test");
        return analysis.analyse(analysis.chooseInput(null), 3);
    }

    @Test
    void branchesThroughPerChannelLayersToEveryConsumer() {
        ChannelDependency d = analyse(List.of(
                Node.input("x", new long[] {-1, 8, 8, 3}, null),
                node("pad", NodeRole.PER_CHANNEL, null, "x"),
                node("norm", NodeRole.PER_CHANNEL_CONSTANTS, ChannelAxis.LAST, "pad"),
                node("a", NodeRole.MIXES_CHANNELS, ChannelAxis.LAST, "norm"),
                node("b", NodeRole.MIXES_CHANNELS, ChannelAxis.LAST, "x"),
                node("after", NodeRole.MIXES_CHANNELS, ChannelAxis.LAST, "a")), Set.of());
        assertEquals(List.of("b", "a"), d.consumers().stream().map(c -> c.node().id()).sorted((p, q) -> q.compareTo(p)).toList());
        assertEquals(List.of("norm"), d.constants().stream().map(c -> c.node().id()).toList());
        assertEquals(Set.of("x", "pad", "norm"), d.tensors().keySet());
        assertEquals(ChannelAxis.LAST, d.axis());
    }

    @Test
    void concatenationShiftsTheSegment() {
        Node other = Node.input("mask", new long[] {-1, 8, 8, 2}, null);
        Node concat = new Node("join", "Concat", NodeRole.CONCAT, List.of("mask", "x"),
                List.of(new long[] {-1, 8, 8, 2}, new long[] {-1, 8, 8, 3}), null, -1, null);
        ChannelAnalysis analysis = new ChannelAnalysis(new ModelGraph(List.of(
                Node.input("x", new long[] {-1, 8, 8, 3}, null), other, concat,
                node("conv", NodeRole.MIXES_CHANNELS, ChannelAxis.LAST, "join"))), Set.of(), "test");
        ChannelDependency d = analysis.analyse(analysis.chooseInput("x"), 3);
        Segment segment = d.consumers().get(0).segment();
        assertEquals(2, segment.offset());
        assertEquals(5, segment.total());
    }

    @Test
    void transposeMovesTheAxis() {
        Node transpose = new Node("t", "Transpose", NodeRole.TRANSPOSE, List.of("x"), null, null, null, null, new int[] {0, 3, 1, 2});
        ChannelAnalysis analysis = new ChannelAnalysis(new ModelGraph(List.of(
                Node.input("x", new long[] {-1, 8, 8, 3}, null), transpose,
                node("conv", NodeRole.MIXES_CHANNELS, ChannelAxis.FIRST, "t"))), Set.of(), "test", ChannelAxis.FIRST);
        ChannelDependency d = analysis.analyse(analysis.chooseInput(null), 3);
        assertEquals(ChannelAxis.LAST, d.axis(), "the input keeps channels last");
        assertEquals(ChannelAxis.FIRST, d.consumers().get(0).segment().axis());
    }

    @Test
    void unknownLayersAreNamedAndCanBeDeclared() {
        List<Node> nodes = List.of(
                Node.input("x", new long[] {-1, 8, 8, 3}, null),
                node("lambda", NodeRole.OPAQUE, null, "x"),
                node("conv", NodeRole.MIXES_CHANNELS, ChannelAxis.LAST, "lambda"));
        RechannelException e = assertThrows(RechannelException.class, () -> analyse(nodes, Set.of()));
        assertEquals(RechannelException.Kind.AMBIGUOUS_CHANNELS, e.kind());
        assertTrue(e.getMessage().contains("option 'channelIndependent' lambda"), e.getMessage());
        assertEquals("conv", analyse(nodes, Set.of("lambda")).consumers().get(0).node().id());
    }

    @Test
    void conflictingLayoutsAndMissingConsumersAreRefused() {
        assertThrows(RechannelException.class, () -> analyse(List.of(
                Node.input("x", new long[] {-1, 3, 8, 8}, null),
                node("a", NodeRole.PER_CHANNEL_CONSTANTS, ChannelAxis.FIRST, "x"),
                node("b", NodeRole.MIXES_CHANNELS, ChannelAxis.LAST, "a")), Set.of()));
        RechannelException none = assertThrows(RechannelException.class, () -> analyse(List.of(
                Node.input("x", new long[] {-1, 8, 8, 3}, null),
                node("pool", NodeRole.PER_CHANNEL, null, "x")), Set.of()));
        assertEquals(RechannelException.Kind.UNSUPPORTED, none.kind());
    }

    @Test
    void elementwiseNeedsBothSidesToCarryTheChannels() {
        assertEquals(1, analyse(List.of(
                Node.input("x", new long[] {-1, 8, 8, 3}, null),
                node("p", NodeRole.PER_CHANNEL, null, "x"),
                node("q", NodeRole.PER_CHANNEL, null, "x"),
                node("sum", NodeRole.ELEMENTWISE, null, "p", "q"),
                node("conv", NodeRole.MIXES_CHANNELS, ChannelAxis.LAST, "sum")), Set.of()).consumers().size());
    }
}

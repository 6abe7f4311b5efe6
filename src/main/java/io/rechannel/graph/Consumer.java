package io.rechannel.graph;

/**
 * A node whose weights must be mixed: it reads the adapted channels at {@code segment} of its input
 * number {@code position}.
 */
public record Consumer(Node node, int position, Segment segment) {
}

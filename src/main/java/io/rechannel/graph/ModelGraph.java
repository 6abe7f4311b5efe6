package io.rechannel.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A model's operations in topological order, with their connections. */
public final class ModelGraph {

    private final Map<String, Node> nodes = new LinkedHashMap<>();

    public ModelGraph(List<Node> nodes) {
        for (Node node : nodes) {
            if (this.nodes.put(node.id(), node) != null) {
                throw new IllegalArgumentException("two nodes named " + node.id());
            }
        }
    }

    public List<Node> nodes() {
        return List.copyOf(nodes.values());
    }

    public Node node(String id) {
        Node node = nodes.get(id);
        if (node == null) {
            throw new IllegalArgumentException("no node " + id);
        }
        return node;
    }

    public List<Node> inputs() {
        return nodes.values().stream().filter(n -> n.role() == NodeRole.INPUT).toList();
    }

    /** The nodes reading the output of {@code id}, each with the position at which they read it. */
    public List<Use> usesOf(String id) {
        List<Use> uses = new ArrayList<>();
        for (Node node : nodes.values()) {
            for (int k = 0; k < node.inputs().size(); k++) {
                if (node.inputs().get(k).equals(id)) {
                    uses.add(new Use(node, k));
                }
            }
        }
        return uses;
    }

    /** A node reading another node's output as its input number {@code position}. */
    public record Use(Node node, int position) {
    }
}

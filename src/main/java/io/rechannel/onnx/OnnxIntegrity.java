package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.RechannelException;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The checks an ONNX file passes before anything reads it further: every initializer's shape agrees with
 * its stored values ({@link OnnxTensorCheck}) and its external data lies inside the model's folder
 * ({@link OnnxExternalData}); the graph is what ONNX requires — every name defined once, every node input
 * defined by a graph input, an initializer or an earlier node (so no cycles), every graph output defined.
 */
final class OnnxIntegrity {

    /** Operators whose outputs rechannel reads as constants (aliases), which ONNX defines with one output. */
    private static final Set<String> SINGLE_OUTPUT = Set.of("Identity", "Constant");

    private final OnnxFile file;
    private final Path path;

    private OnnxIntegrity(OnnxFile file) {
        this.file = file;
        this.path = file.path();
    }

    static void check(OnnxFile file) {
        OnnxIntegrity check = new OnnxIntegrity(file);
        check.tensors();
        check.graph();
    }

    private void tensors() {
        for (OnnxFile.TensorInfo info : file.initializers().values()) {
            OnnxTensorCheck.check(path, "initializer '" + info.name() + "'", info.dataType(), info.dims(), info.stored());
            if (info.isExternal()) {
                OnnxExternalData.of(file, info);
            }
        }
        for (OnnxMl.NodeProto node : file.nodes()) {
            for (OnnxMl.AttributeProto attribute : node.getAttributeList()) {
                if (node.getOpType().equals("Constant") && attribute.hasT()) {
                    OnnxMl.TensorProto t = attribute.getT();
                    OnnxTensorCheck.check(path, "Constant node " + label(node, -1) + " value", t.getDataType(),
                            OnnxFormat.dims(t), OnnxTensorCheck.Stored.of(t));
                }
                refuseExternal(node, attribute);
            }
        }
    }

    /**
     * Only initializers get their external data copied and relocated; a tensor inside a node attribute (or a
     * subgraph) stored externally would be left pointing at the input's data file.
     */
    private void refuseExternal(OnnxMl.NodeProto node, OnnxMl.AttributeProto attribute) {
        List<OnnxMl.TensorProto> tensors = new ArrayList<>(attribute.getTensorsList());
        if (attribute.hasT()) {
            tensors.add(attribute.getT());
        }
        List<OnnxMl.GraphProto> graphs = new ArrayList<>(attribute.getGraphsList());
        if (attribute.hasG()) {
            graphs.add(attribute.getG());
        }
        for (OnnxMl.GraphProto g : graphs) {
            tensors.addAll(g.getInitializerList());
            for (OnnxMl.NodeProto inner : g.getNodeList()) {
                inner.getAttributeList().forEach(a -> refuseExternal(node, a));
            }
        }
        for (OnnxMl.TensorProto t : tensors) {
            if (t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
                throw RechannelException.unsupported(path + ": node " + label(node, -1) + " attribute '" + attribute.getName()
                        + "' holds tensor '" + t.getName() + "' in external data; rechannel reads external data of graph"
                        + " initializers only");
            }
        }
    }

    private void graph() {
        Set<String> given = new HashSet<>(file.initializers().keySet());
        given.addAll(file.sparseInitializers());
        file.inputs().forEach(i -> given.add(i.getName()));
        List<OnnxMl.NodeProto> nodes = file.nodes();
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            OnnxMl.NodeProto node = nodes.get(i);
            boolean standard = node.getDomain().isEmpty() || node.getDomain().equals("ai.onnx");
            if (standard && SINGLE_OUTPUT.contains(node.getOpType()) && node.getOutputCount() != 1) {
                throw RechannelException.malformed(path + ": node " + label(node, i) + " (" + node.getOpType() + ") has "
                        + node.getOutputCount() + " outputs; the operator has one");
            }
            for (String output : nodes.get(i).getOutputList()) {
                if (output.isEmpty()) {
                    continue;
                }
                if (given.contains(output)) {
                    throw RechannelException.malformed(path + ": node " + label(nodes.get(i), i) + " produces '" + output
                            + "', which is already a graph input or initializer");
                }
                Integer other = producer.putIfAbsent(output, i);
                if (other != null) {
                    throw RechannelException.malformed(path + ": nodes " + label(nodes.get(other), other) + " and "
                            + label(nodes.get(i), i) + " both produce '" + output + "'");
                }
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            for (String input : nodes.get(i).getInputList()) {
                if (input.isEmpty() || given.contains(input)) {
                    continue;
                }
                Integer from = producer.get(input);
                if (from == null) {
                    throw RechannelException.malformed(path + ": node " + label(nodes.get(i), i) + " reads '" + input
                            + "', which no node, graph input or initializer defines");
                }
                if (from == i) {
                    throw RechannelException.malformed(path + ": node " + label(nodes.get(i), i) + " reads its own output '"
                            + input + "' (a cycle)");
                }
                if (from > i) {
                    throw RechannelException.malformed(path + ": " + unordered(producer, i, from, input));
                }
            }
        }
        for (OnnxMl.ValueInfoProto output : file.outputs()) {
            if (!given.contains(output.getName()) && !producer.containsKey(output.getName())) {
                throw RechannelException.malformed(path + ": graph output '" + output.getName()
                        + "' is not produced by any node, input or initializer");
            }
        }
    }

    /** Says whether a node reading a later node's output is part of a cycle (naming it) or only out of order. */
    private String unordered(Map<String, Integer> producer, int reader, int writer, String tensor) {
        List<OnnxMl.NodeProto> nodes = file.nodes();
        List<Set<Integer>> predecessors = new ArrayList<>();
        int[] pending = new int[nodes.size()];
        List<List<Integer>> successors = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            successors.add(new ArrayList<>());
        }
        for (int i = 0; i < nodes.size(); i++) {
            Set<Integer> from = new LinkedHashSet<>();
            for (String input : nodes.get(i).getInputList()) {
                Integer p = producer.get(input);
                if (p != null && from.add(p)) {
                    successors.get(p).add(i);
                }
            }
            predecessors.add(from);
            pending[i] = from.size();
        }
        Deque<Integer> ready = new ArrayDeque<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (pending[i] == 0) {
                ready.add(i);
            }
        }
        while (!ready.isEmpty()) {
            for (int next : successors.get(ready.poll())) {
                if (--pending[next] == 0) {
                    ready.add(next);
                }
            }
        }
        int start = -1;
        for (int i = 0; i < nodes.size() && start < 0; i++) {
            start = pending[i] > 0 ? i : -1;
        }
        if (start < 0) {
            return "node " + label(nodes.get(reader), reader) + " reads '" + tensor + "' before node "
                    + label(nodes.get(writer), writer) + " produces it; ONNX requires nodes in topological order";
        }
        // every node left over waits on another left-over node: walking back along those must close a loop
        List<Integer> walk = new ArrayList<>();
        Map<Integer, Integer> seen = new HashMap<>();
        int at = start;
        while (!seen.containsKey(at)) {
            seen.put(at, walk.size());
            walk.add(at);
            at = predecessors.get(at).stream().filter(p -> pending[p] > 0).findFirst().orElseThrow();
        }
        List<Integer> cycle = new ArrayList<>(walk.subList(seen.get(at), walk.size()));
        Collections.reverse(cycle);
        cycle.add(cycle.get(0));
        StringBuilder names = new StringBuilder();
        for (int n : cycle) {
            names.append(names.length() == 0 ? "" : " -> ").append(label(nodes.get(n), n));
        }
        return "the graph has a cycle: " + names;
    }

    /** A node as messages name it: its name, else its operator and position. */
    private String label(OnnxMl.NodeProto node, int index) {
        if (!node.getName().isEmpty()) {
            return "'" + node.getName() + "'";
        }
        int position = index >= 0 ? index : file.nodes().indexOf(node);
        return node.getOpType() + " #" + (position + 1);
    }
}

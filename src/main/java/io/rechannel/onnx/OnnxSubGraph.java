package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.rechannel.core.RechannelException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The part of an ONNX graph that computes some nodes' outputs (the adapted layers') from the graph's inputs,
 * written as a model of its own that ONNX Runtime can run: those nodes and every node they depend on, in the
 * graph's order, the initializers they read (external data inlined), the value infos of their outputs, and the
 * model's other top-level fields (opsets, local functions). The other nodes and their weights are left out.
 *
 * @param model       the serialized model
 * @param nodes       the positions, in the graph, of the nodes it holds
 * @param outputs     its outputs: every output of the end nodes, in their order
 * @param weightBytes the bytes of the initializers it holds
 */
record OnnxSubGraph(byte[] model, Set<Integer> nodes, List<String> outputs, long weightBytes) {

    /**
     * The sub-graph ending at {@code ends}, or null when its initializers would take more than {@code maxWeightBytes}
     * (they are read into memory to build it).
     */
    static OnnxSubGraph of(OnnxFile file, List<OnnxMl.NodeProto> ends, long maxWeightBytes) {
        Map<String, Integer> producer = new java.util.HashMap<>();
        Map<OnnxMl.NodeProto, Integer> position = new IdentityHashMap<>();
        List<OnnxMl.NodeProto> all = file.nodes();
        for (int i = 0; i < all.size(); i++) {
            position.put(all.get(i), i);
            for (String output : all.get(i).getOutputList()) {
                producer.put(output, i);
            }
        }
        Set<Integer> nodes = new TreeSet<>();
        Set<String> read = new LinkedHashSet<>();
        Deque<Integer> pending = new ArrayDeque<>();
        for (OnnxMl.NodeProto end : ends) {
            pending.add(position.containsKey(end) ? position.get(end) : all.indexOf(end));
        }
        while (!pending.isEmpty()) {
            int index = pending.pop();
            if (!nodes.add(index)) {
                continue;
            }
            for (String name : referencedNames(all.get(index))) {
                Integer from = producer.get(name);
                if (from != null) {
                    pending.add(from);
                } else {
                    read.add(name);
                }
            }
        }
        long weightBytes = 0;
        for (String name : read) {
            OnnxFile.TensorInfo info = file.initializers().get(name);
            if (info != null) {
                weightBytes += info.isExternal() ? OnnxExternalData.of(file, info).length()
                        : info.span().end() - info.span().payloadStart();
            }
        }
        if (weightBytes > maxWeightBytes) {
            return null;
        }
        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("rechannel_check");
        Set<String> produced = new LinkedHashSet<>();
        for (int index : nodes) {
            graph.addNode(all.get(index));
            produced.addAll(all.get(index).getOutputList());
        }
        for (OnnxMl.ValueInfoProto input : file.inputs()) {
            if (read.contains(input.getName()) && !file.initializers().containsKey(input.getName())) {
                graph.addInput(input);
            }
        }
        for (String name : read) {
            OnnxFile.TensorInfo info = file.initializers().get(name);
            if (info != null) {
                graph.addInitializer(inline(file, info));
                if (file.irVersion() < 4) {
                    graph.addInput(declaration(info)); // before IR 4, every initializer is also a graph input
                }
            }
        }
        file.valueInfos().stream().filter(info -> produced.contains(info.getName())).forEach(graph::addValueInfo);
        List<String> outputs = new ArrayList<>();
        for (OnnxMl.NodeProto end : ends) {
            end.getOutputList().stream().filter(name -> !name.isEmpty() && !outputs.contains(name)).forEach(outputs::add);
        }
        for (String name : outputs) {
            graph.addOutput(file.valueInfos().stream().filter(info -> info.getName().equals(name)).findFirst()
                    .orElse(OnnxMl.ValueInfoProto.newBuilder().setName(name).build()));
        }
        return new OnnxSubGraph(withGraph(file, graph.build()).toByteArray(), nodes, List.copyOf(outputs), weightBytes);
    }

    /** The nodes of {@code file} this sub-graph leaves out, in order. */
    List<OnnxMl.NodeProto> others(OnnxFile file) {
        List<OnnxMl.NodeProto> others = new ArrayList<>();
        for (int i = 0; i < file.nodes().size(); i++) {
            if (!nodes.contains(i)) {
                others.add(file.nodes().get(i));
            }
        }
        return others;
    }

    /** A node's inputs and the names its subgraphs (If, Loop, Scan) read from the enclosing graph. */
    private static Set<String> referencedNames(OnnxMl.NodeProto node) {
        Set<String> names = new LinkedHashSet<>();
        node.getInputList().stream().filter(name -> !name.isEmpty()).forEach(names::add);
        for (OnnxMl.AttributeProto attribute : node.getAttributeList()) {
            List<OnnxMl.GraphProto> graphs = new ArrayList<>(attribute.getGraphsList());
            if (attribute.hasG()) {
                graphs.add(attribute.getG());
            }
            for (OnnxMl.GraphProto graph : graphs) {
                graph.getNodeList().forEach(inner -> names.addAll(referencedNames(inner)));
            }
        }
        return names;
    }

    /** An initializer with its values inside it. */
    private static OnnxMl.TensorProto inline(OnnxFile file, OnnxFile.TensorInfo info) {
        OnnxMl.TensorProto tensor = file.tensor(info);
        if (!info.isExternal()) {
            return tensor;
        }
        return tensor.toBuilder().clearExternalData().clearDataLocation()
                .setRawData(ByteString.copyFrom(file.externalData(info))).build();
    }

    private static OnnxMl.ValueInfoProto declaration(OnnxFile.TensorInfo info) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (long dim : info.dims()) {
            shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(dim));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(info.name()).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(info.dataType()).setShape(shape))).build();
    }

    /** The model's top-level fields (IR version, opsets, functions, ...) around another graph. */
    private static OnnxMl.ModelProto withGraph(OnnxFile file, OnnxMl.GraphProto graph) {
        OnnxMl.ModelProto.Builder model = OnnxMl.ModelProto.newBuilder();
        try {
            for (OnnxFile.Span field : file.modelFields()) {
                if (field.number() != OnnxFile.MODEL_GRAPH) {
                    model.mergeFrom(file.bytes(field.start(), field.end()));
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw RechannelException.malformed(file.path() + ": a top-level field is damaged");
        }
        return model.setGraph(graph).build();
    }
}

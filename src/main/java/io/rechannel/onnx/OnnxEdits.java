package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The changes to write into a copy of an ONNX file; everything else is copied byte for byte. */
final class OnnxEdits {

    /** Initializers replaced under their own name. */
    final Map<String, ChangedTensor> initializers = new LinkedHashMap<>();
    /** Initializers added (copies of shared ones, for the one node that changes). */
    final List<ChangedTensor> added = new ArrayList<>();
    /** Nodes added before the graph's first node (they read only graph inputs and initializers). */
    final List<OnnxMl.NodeProto> prepended = new ArrayList<>();
    /** Nodes whose inputs were rewired, by their position among the graph's nodes. */
    final Map<Integer, OnnxMl.NodeProto.Builder> nodes = new HashMap<>();
    /** Graph inputs and value infos with new shapes, by name. */
    final Map<String, OnnxMl.ValueInfoProto> valueInfos = new HashMap<>();
    /** External-data files renamed for the output: old location to new location. */
    final Map<String, String> locations = new HashMap<>();
}

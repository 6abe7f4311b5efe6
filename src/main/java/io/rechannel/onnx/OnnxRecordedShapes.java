package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.graph.ChannelAxis;
import io.rechannel.graph.ChannelDependency;
import io.rechannel.graph.Segment;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The shapes an ONNX file records for the tensors carrying the input's channels (the graph input's, and value
 * infos of intermediate tensors), with the new channel count where they hold it.
 */
final class OnnxRecordedShapes {

    private OnnxRecordedShapes() {
    }

    /**
     * Adds to {@code edits} every recorded shape of a tensor in {@code dependency} resized from {@code channels} to
     * {@code newCount} input channels; returns the report's line.
     */
    static String resize(OnnxModel model, ChannelDependency dependency, int channels, int newCount, OnnxEdits edits) {
        OnnxFile file = model.file();
        List<OnnxMl.ValueInfoProto> recorded = new ArrayList<>(file.inputs());
        recorded.addAll(file.valueInfos());
        for (Map.Entry<String, Segment> entry : dependency.tensors().entrySet()) {
            OnnxMl.NodeProto node = model.node(entry.getKey());
            List<String> tensors = node == null ? List.of(entry.getKey()) : node.getOutputList();
            for (String tensor : tensors) {
                for (OnnxMl.ValueInfoProto info : recorded) {
                    if (info.getName().equals(tensor)) {
                        OnnxMl.ValueInfoProto resized = resize(info, entry.getValue(), channels, newCount);
                        if (resized != null) {
                            edits.valueInfos.put(tensor, resized);
                        }
                    }
                }
            }
        }
        return "shapes: " + edits.valueInfos.size() + " recorded tensor shapes updated";
    }

    private static OnnxMl.ValueInfoProto resize(OnnxMl.ValueInfoProto info, Segment segment, int channels, int newCount) {
        if (!info.getType().hasTensorType() || !info.getType().getTensorType().hasShape()) {
            return null;
        }
        OnnxMl.TensorShapeProto shape = info.getType().getTensorType().getShape();
        int rank = shape.getDimCount();
        if (rank == 0) {
            return null;
        }
        int index = segment.shapeIndex(rank, ChannelAxis.FIRST);
        OnnxMl.TensorShapeProto.Dimension dim = shape.getDim(index);
        if (!dim.hasDimValue()) {
            return null;
        }
        long updated = segment.resizedEntry(dim.getDimValue(), channels, newCount);
        OnnxMl.ValueInfoProto.Builder b = info.toBuilder();
        b.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(index).setDimValue(updated);
        return b.build();
    }
}

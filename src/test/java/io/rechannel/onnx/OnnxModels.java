package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Small ONNX models written with the protobuf classes, so that a test can break exactly one thing that
 * ONNX's own helpers would refuse to write: x [1,3,8,8] → Conv(W [4,3,3,3], B [4]) → y.
 */
final class OnnxModels {

    static final long[] W_DIMS = {4, 3, 3, 3};

    private OnnxModels() {
    }

    static OnnxMl.ModelProto.Builder conv() {
        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("conv")
                .addInput(value("x", 1, 3, 8, 8))
                .addOutput(value("y", 1, 4, 6, 6))
                .addInitializer(floats("W", W_DIMS))
                .addInitializer(floats("B", 4))
                .addNode(OnnxMl.NodeProto.newBuilder().setName("conv").setOpType("Conv")
                        .addInput("x").addInput("W").addInput("B").addOutput("y"));
        return OnnxMl.ModelProto.newBuilder().setIrVersion(8).setProducerName("rechannel-test")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(graph);
    }

    /** x [1,3] → Gemm(G [3,5]) → y. */
    static OnnxMl.ModelProto.Builder gemm() {
        OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("gemm")
                .addInput(value("x", 1, 3))
                .addOutput(value("y", 1, 5))
                .addInitializer(floats("G", 3, 5))
                .addNode(OnnxMl.NodeProto.newBuilder().setName("dense").setOpType("Gemm")
                        .addInput("x").addInput("G").addOutput("y"));
        return OnnxMl.ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(graph);
    }

    static OnnxMl.ValueInfoProto value(String name, long... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    /** A float tensor of seeded random values in raw_data. */
    static OnnxMl.TensorProto floats(String name, long... dims) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(1);
        long count = 1;
        for (long d : dims) {
            t.addDims(d);
            count *= d;
        }
        return t.setRawData(ByteString.copyFrom(randomFloats((int) count, name.hashCode()))).build();
    }

    static byte[] randomFloats(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer buffer = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            buffer.putFloat((float) random.nextDouble(-1, 1));
        }
        return buffer.array();
    }

    /** Changes one initializer of the graph in place. */
    static OnnxMl.ModelProto.Builder editInitializer(OnnxMl.ModelProto.Builder model, String name,
                                                       Consumer<OnnxMl.TensorProto.Builder> edit) {
        OnnxMl.GraphProto.Builder graph = model.getGraphBuilder();
        for (OnnxMl.TensorProto.Builder t : graph.getInitializerBuilderList()) {
            if (t.getName().equals(name)) {
                edit.accept(t);
                return model;
            }
        }
        throw new IllegalArgumentException("no initializer " + name);
    }

    /**
     * Moves initializer W's values to the data file {@code dataName} beside the model (which it writes),
     * with the given entries in place of location/offset/length when not null.
     */
    static OnnxMl.ModelProto.Builder externalW(OnnxMl.ModelProto.Builder model, Path dir, String dataName,
                                               String location, String offset, String length) throws IOException {
        byte[][] raw = new byte[1][];
        editInitializer(model, "W", t -> raw[0] = t.getRawData().toByteArray());
        if (dataName != null) {
            Files.write(dir.resolve(dataName), raw[0]);
        }
        return editInitializer(model, "W", t -> {
            t.clearRawData().setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL);
            entry(t, "location", location);
            entry(t, "offset", offset);
            entry(t, "length", length);
        });
    }

    private static void entry(OnnxMl.TensorProto.Builder t, String key, String value) {
        if (value != null) {
            t.addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey(key).setValue(value));
        }
    }

    static Path write(OnnxMl.ModelProto.Builder model, Path file) throws IOException {
        Files.write(file, model.build().toByteArray());
        return file;
    }
}

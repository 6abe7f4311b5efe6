package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.RechannelException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Which entry of a shape vector holds the channel count, through every operation that moves entries: small graphs
 * built here, each reading an entry of the input's shape and using it in a {@code Mul}. The {@code Mul} is refused
 * exactly when the entry it gets is the channel count.
 */
class OnnxShapeVectorTest {

    @TempDir
    static Path dir;

    private static final List<OnnxMl.NodeProto> nodes = new ArrayList<>();
    private static final List<OnnxMl.TensorProto> constants = new ArrayList<>();

    private static OnnxMl.NodeProto node(String op, String name, List<String> inputs, OnnxMl.AttributeProto... attributes) {
        return OnnxMl.NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(name)
                .addAllAttribute(List.of(attributes)).build();
    }

    private static OnnxMl.AttributeProto ints(String name, long... values) {
        OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name);
        if (values.length == 1 && !name.equals("perm")) {
            return a.setType(OnnxMl.AttributeProto.AttributeType.INT).setI(values[0]).build();
        }
        return a.setType(OnnxMl.AttributeProto.AttributeType.INTS).addAllInts(Arrays.stream(values).boxed().toList()).build();
    }

    private static String constant(String name, boolean scalar, long... values) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name)
                .setDataType(OnnxMl.TensorProto.DataType.INT64_VALUE).addAllInt64Data(Arrays.stream(values).boxed().toList());
        if (!scalar) {
            t.addDims(values.length);
        }
        constants.add(t.build());
        return name;
    }

    private static OnnxMl.ValueInfoProto tensor(String name, long... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder().setTensorType(
                OnnxMl.TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
    }

    /**
     * Builds the chain {@code Shape(image) → steps → Cast → Mul(conv, ·)} on an NCHW input (or NHWC through a
     * Transpose) and plans it. Steps: {@code gather:I}, {@code slice:S:E[:STEP]}, {@code prefix} (Concat after a
     * constant pair), {@code unsqueeze}, {@code squeeze}, {@code shape:START[:END]} (the reader's own range).
     */
    private static void plan(String layout, String steps) throws Exception {
        nodes.clear();
        constants.clear();
        boolean nhwc = layout.equals("nhwc");
        String image = "image";
        String convInput = image;
        if (nhwc) {
            nodes.add(node("Transpose", "to_nchw", List.of(image), ints("perm", 0, 3, 1, 2)));
            convInput = "to_nchw";
        }
        OnnxMl.TensorProto weight = OnnxMl.TensorProto.newBuilder().setName("w").setDataType(1).addAllDims(List.of(2L, 3L, 1L, 1L))
                .addAllFloatData(List.of(1f, 2f, 3f, 4f, 5f, 6f)).build();
        nodes.add(node("Conv", "conv", List.of(convInput, "w")));
        String vector = "shape";
        List<OnnxMl.AttributeProto> range = new ArrayList<>();
        List<String> chain = new ArrayList<>(List.of(steps.split(" ")));
        if (chain.get(0).startsWith("shape:")) {
            String[] p = chain.remove(0).split(":");
            range.add(ints("start", Long.parseLong(p[1])));
            if (p.length > 2) {
                range.add(ints("end", Long.parseLong(p[2])));
            }
        }
        nodes.add(node("Shape", "shape", List.of(image), range.toArray(OnnxMl.AttributeProto[]::new)));
        int k = 0;
        for (String step : chain) {
            String[] p = step.split(":");
            String name = p[0] + "_" + k++;
            switch (p[0]) {
                case "gather" -> nodes.add(node("Gather", name, List.of(vector, constant(name + "_i", true, Long.parseLong(p[1])))));
                case "slice" -> nodes.add(node("Slice", name, List.of(vector, constant(name + "_s", false, Long.parseLong(p[1])),
                        constant(name + "_e", false, Long.parseLong(p[2])), constant(name + "_a", false, 0),
                        constant(name + "_p", false, p.length > 3 ? Long.parseLong(p[3]) : 1))));
                case "prefix" -> nodes.add(node("Concat", name, List.of(constant(name + "_c", false, 7, 7), vector), ints("axis", 0)));
                case "unsqueeze" -> nodes.add(node("Unsqueeze", name, List.of(vector, constant(name + "_a", false, 0))));
                case "squeeze" -> nodes.add(node("Squeeze", name, List.of(vector, constant(name + "_a", false, 0))));
                default -> throw new IllegalArgumentException(step);
            }
            vector = name;
        }
        nodes.add(OnnxMl.NodeProto.newBuilder().setOpType("Cast").setName("to_float").addInput(vector).addOutput("to_float")
                .addAttribute(ints("to", 1)).build());
        nodes.add(node("Mul", "use", List.of("conv", "to_float")));
        OnnxMl.GraphProto graph = OnnxMl.GraphProto.newBuilder().setName("g").addAllNode(nodes).addInitializer(weight)
                .addAllInitializer(constants).addInput(nhwc ? tensor(image, -1, 8, 8, 3) : tensor(image, -1, 3, 8, 8))
                .addOutput(tensor("use")).build();
        Path file = file(layout, steps);
        Files.write(file, OnnxMl.ModelProto.newBuilder().setIrVersion(8).setGraph(graph)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(15)).build().toByteArray());
        OnnxAdaptable.read(file).plan(AdaptOptions.analysisOnly(null, Set.of(), null, null));
    }

    private static Path file(String layout, String steps) {
        return dir.resolve(layout + "_" + Integer.toHexString(steps.hashCode()) + ".onnx");
    }

    @ParameterizedTest(name = "{0} {1}: channel count used = {2}")
    @CsvSource({
        "nchw, gather:0, false",
        "nchw, gather:1, true",
        "nchw, gather:-3, true",
        "nchw, gather:-1, false",
        "nchw, slice:1:4 gather:0, true",
        "nchw, slice:2:4, false",
        "nchw, slice:0:2 gather:0, false",
        "nchw, slice:0:9223372036854775807:2, false",
        "nchw, slice:1:9223372036854775807:2 gather:0, true",
        "nchw, slice:-1:-9223372036854775807:-1 gather:2, true",
        "nchw, slice:-1:-9223372036854775807:-1 gather:1, false",
        "nchw, prefix gather:3, true",
        "nchw, prefix gather:2, false",
        "nchw, gather:1 unsqueeze squeeze, true",
        "nchw, shape:1:2, true",
        "nchw, shape:2, false",
        "nchw, shape:-3:-2, true",
        "nhwc, gather:3, true",
        "nhwc, gather:1, false",
        "nhwc, gather:-1, true"})
    void theChannelEntryIsFollowedThroughEveryMove(String layout, String steps, boolean used) throws Exception {
        if (!used) {
            plan(layout, steps);
            return;
        }
        RechannelException e = assertThrows(RechannelException.class, () -> plan(layout, steps));
        assertEquals(RechannelException.Kind.AMBIGUOUS_CHANNELS, e.kind());
        assertEquals(file(layout, steps) + ": 'use' (Mul) uses the channel count of input 'image' that 'shape' (Shape) reads",
                e.getMessage().replaceAll(" \\(passed on by .*", ""));
    }
}

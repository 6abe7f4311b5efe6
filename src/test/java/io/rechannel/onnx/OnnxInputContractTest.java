package io.rechannel.onnx;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an ONNX model expects at its input: layout, channel order, preprocessing inside, and outside when known. */
class OnnxInputContractTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode inspected(Path model, String... more) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("inspect", model.toString(), "--json"));
        args.addAll(List.of(more));
        TestSupport.Run run = cli(args.toArray(String[]::new));
        assertEquals(0, run.exitCode(), run.err());
        JsonNode contracts = JSON.readTree(run.out()).path("contracts");
        assertEquals(1, contracts.size(), run.out());
        return contracts.get(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"timm_resnet18", "timm_efficientnet_b0", "tv_resnet50", "tv_efficientnet_b0"})
    void timmAndTorchvisionExportsTakeNchwRgbAndDoNotRecordTheirNormalisation(String name, @TempDir Path dir) throws Exception {
        Path model = TestSupport.unxz("onnx-apps/" + name + ".onnx.xz", dir);
        JsonNode contract = inspected(model);
        assertEquals("input", contract.path("input").asText());
        assertEquals("channels_first", contract.path("layout").asText());
        assertEquals("[\"R\",\"G\",\"B\"]", contract.path("channels").toString());
        assertEquals("unknown", contract.path("convention").asText());
        assertTrue(contract.path("mean").isNull() && contract.path("std").isNull(), contract.toString());
        assertTrue(contract.path("source").asText().equals("not recorded in the file: no pretrained_cfg, image_mean/image_std, mean/std or"
                + " Image.NominalPixelRange in ONNX metadata_props"),
                contract.toString());
        assertEquals(0, contract.path("inside").size(), "the exporters put no normalisation into the graph: " + contract);

        JsonNode stated = inspected(model, "--norm", "imagenet");
        assertEquals("imagenet", stated.path("convention").asText());
        assertEquals("0-1", stated.path("units").asText());
        assertEquals("[0.485,0.456,0.406]", stated.path("mean").toString());
        assertEquals("[0.229,0.224,0.225]", stated.path("std").toString());
        assertEquals("--norm imagenet", stated.path("source").asText());
    }

    @Test
    void theNewChannelTakesItsSourcesStatisticsOrTheUsersOwn(@TempDir Path dir) throws Exception {
        Path model = fixture("timm/test_resnet.onnx");
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "--norm",
                "0.5,0.4,0.3/0.2,0.25,0.3", "-o", dir.resolve("a.onnx").toString(), "--json");
        assertEquals(0, run.exitCode(), run.err());
        JsonNode contract = JSON.readTree(run.out()).path("contract");
        assertEquals("custom", contract.path("convention").asText());
        assertEquals("[0.5,0.4,0.3,0.3]", contract.path("mean").toString());
        assertEquals("[0.2,0.25,0.3,0.3]", contract.path("std").toString());
        assertEquals(contract, JSON.readTree(Files.readString(dir.resolve("a.onnx.input.json"))));

        run = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "--norm", "imagenet", "--stats",
                "Y=mean:0.1,std:0.05", "-o", dir.resolve("b.onnx").toString(), "--json");
        assertEquals(0, run.exitCode(), run.err());
        contract = JSON.readTree(run.out()).path("contract");
        assertEquals("[0.485,0.456,0.406,0.1]", contract.path("mean").toString());
        assertEquals("[0.229,0.224,0.225,0.05]", contract.path("std").toString());
    }

    @Test
    void preprocessingInsideTheGraphIsListedWithItsConstants(@TempDir Path dir) throws Exception {
        // x -> Sub(m) -> Div(s) -> BatchNormalization -> Conv
        OnnxMl.ModelProto.Builder model = OnnxModels.conv();
        OnnxMl.GraphProto.Builder graph = model.getGraphBuilder();
        graph.getNodeBuilder(0).setInput(0, "bn");
        graph.addInitializer(constant("m", 0.5, 0.25, 0.125)).addInitializer(constant("s", 2, 4, 8))
                .addInitializer(constant("scale", 1, 1, 1)).addInitializer(constant("bias", 0, 0, 0))
                .addInitializer(constant("mean", 0.1, 0.2, 0.3)).addInitializer(constant("var", 1, 1, 1));
        graph.addNode(0, node("Sub", "x", "m", "centred"));
        graph.addNode(1, node("Div", "centred", "s", "scaled"));
        graph.addNode(2, OnnxMl.NodeProto.newBuilder().setName("input_bn").setOpType("BatchNormalization")
                .addInput("scaled").addInput("scale").addInput("bias").addInput("mean").addInput("var").addOutput("bn"));
        Path file = OnnxModels.write(model, dir.resolve("pre.onnx"));
        JsonNode contract = inspected(file);
        assertEquals(List.of("sub (Sub) [0.5, 0.25, 0.125]", "div (Div) [2.0, 4.0, 8.0]",
                "input_bn (BatchNormalization) scale=[1.0, 1.0, 1.0] bias=[0.0, 0.0, 0.0] mean=[0.1, 0.2, 0.3] var=[1.0, 1.0, 1.0]"),
                OnnxBakeTest.lines(contract.path("inside")));
        assertTrue(contract.path("notes").toString().contains("the model normalises its input itself"), contract.toString());
    }

    private static OnnxMl.TensorProto constant(String name, double... values) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(1)
                .addDims(1).addDims(values.length).addDims(1).addDims(1);
        for (double v : values) {
            t.addFloatData((float) v);
        }
        return t.build();
    }

    private static OnnxMl.NodeProto node(String op, String a, String b, String out) {
        return OnnxMl.NodeProto.newBuilder().setName(op.toLowerCase()).setOpType(op).addInput(a).addInput(b).addOutput(out).build();
    }

    /** A copy of {@code model} with one more metadata_props entry: a field appended to the ModelProto. */
    static Path withMetadata(Path model, Path copy, String key, String value) throws Exception {
        Files.copy(model, copy);
        byte[] entry = OnnxMl.ModelProto.newBuilder()
                .addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(key).setValue(value)).build().toByteArray();
        Files.write(copy, entry, StandardOpenOption.APPEND);
        return copy;
    }

    @Test
    void metadataRecordsTheNormalisationAndNormMustAgreeWithIt(@TempDir Path dir) throws Exception {
        Path model = withMetadata(fixture("timm/test_resnet.onnx"), dir.resolve("meta.onnx"), "pretrained_cfg",
                "{\"architecture\": \"test_resnet\", \"mean\": [0.485, 0.456, 0.406], \"std\": [0.229, 0.224, 0.225]}");
        JsonNode contract = inspected(model);
        assertEquals("metadata", contract.path("convention").asText());
        assertEquals("ONNX metadata_props 'pretrained_cfg'", contract.path("source").asText());
        assertEquals("[0.485,0.456,0.406]", contract.path("mean").toString());
        assertEquals("0-1", contract.path("units").asText());
        assertEquals(contract, inspected(model, "--norm", "imagenet"), "a --norm that agrees changes nothing");

        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--norm", "inception", "-o",
                dir.resolve("o.onnx").toString());
        assertEquals(2, run.exitCode(), run.err());
        assertEquals("rechannel: " + model + ": --norm inception (mean [0.5, 0.5, 0.5], std [0.5, 0.5, 0.5]) contradicts what"
                + " ONNX metadata_props 'pretrained_cfg' says the model expects (metadata: mean [0.485, 0.456, 0.406], std"
                + " [0.229, 0.224, 0.225], x in 0-1); drop --norm", run.err().strip());
        assertEquals(2, cli("inspect", model.toString(), "--norm", "inception").exitCode());
    }

    @Test
    void metadataMeanAndStdKeys(@TempDir Path dir) throws Exception {
        Path mean = withMetadata(fixture("timm/test_resnet.onnx"), dir.resolve("m.onnx"), "image_mean", "[0.5, 0.5, 0.5]");
        Path both = withMetadata(mean, dir.resolve("ms.onnx"), "image_std", "0.25,0.25,0.25");
        JsonNode contract = inspected(both);
        assertEquals("[0.5,0.5,0.5]", contract.path("mean").toString());
        assertEquals("[0.25,0.25,0.25]", contract.path("std").toString());
        assertEquals("unknown", inspected(mean).path("convention").asText(), "a mean without a std says nothing");
    }
}

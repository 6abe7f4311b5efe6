package io.rechannel.torch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a state dict's model expects at its input, and why its preprocessing cannot be baked into it. */
class StateDictContractTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A copy of a safetensors file whose header carries {@code __metadata__} {key: value}. */
    static Path withMetadata(Path source, Path copy, String key, String value) throws Exception {
        byte[] bytes = Files.readAllBytes(source);
        int length = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode header = (ObjectNode) JSON.readTree(new String(bytes, 8, length, StandardCharsets.UTF_8));
        header.putObject("__metadata__").put(key, value);
        StringBuilder text = new StringBuilder(JSON.writeValueAsString(header));
        while (text.length() % 8 != 0) {
            text.append(' ');
        }
        byte[] json = text.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
        out.write(json);
        out.write(Arrays.copyOfRange(bytes, 8 + length, bytes.length));
        Files.write(copy, out.toByteArray());
        return copy;
    }

    private static JsonNode extended(Path model, Path dir, String... more) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("extend", model.toString(), "--to", "RGBY",
                "--init", "Y=B", "-o", dir.resolve("out" + model.getFileName()).toString(), "--json"));
        args.addAll(java.util.List.of(more));
        TestSupport.Run run = cli(args.toArray(String[]::new));
        assertEquals(0, run.exitCode(), run.err());
        JsonNode contract = JSON.readTree(run.out()).path("contract");
        assertEquals(contract, JSON.readTree(Files.readString(dir.resolve("out" + model.getFileName() + ".input.json"))));
        return contract;
    }

    @ParameterizedTest
    @ValueSource(strings = {"test_resnet.safetensors", "test_resnet.pth"})
    void aStateDictSaysItDoesNotRecordItsPreprocessing(String file, @TempDir Path dir) throws Exception {
        JsonNode contract = extended(fixture("timm/" + file), dir);
        assertEquals("(state dict: conv1.0.weight)", contract.path("input").asText());
        assertEquals("channels_first", contract.path("layout").asText());
        assertEquals("[\"R\",\"G\",\"B\",\"Y\"]", contract.path("channels").toString());
        assertEquals("unknown", contract.path("convention").asText());
        assertTrue(contract.path("mean").isNull(), contract.toString());
        assertTrue(contract.path("source").asText().equals("not recorded in the file: no pretrained_cfg, image_mean/image_std,"
                + " mean/std or Image.NominalPixelRange in "
                + (file.endsWith(".pth") ? "the torch.save file (weights only)" : "safetensors __metadata__")), contract.toString());
        assertTrue(contract.path("notes").get(0).asText().startsWith("a state dict holds weights only"), contract.toString());

        JsonNode stated = extended(fixture("timm/" + file), dir, "--force", "--norm", "imagenet");
        assertEquals("imagenet", stated.path("convention").asText());
        assertEquals("[0.485,0.456,0.406,0.406]", stated.path("mean").toString(), "Y=B: Y takes B's mean");
        assertEquals("[0.229,0.224,0.225,0.225]", stated.path("std").toString());
    }

    @Test
    void safetensorsMetadataWithTimmsPretrainedCfg(@TempDir Path dir) throws Exception {
        Path model = withMetadata(fixture("timm/test_resnet.safetensors"), dir.resolve("cfg.safetensors"), "pretrained_cfg",
                "{\"mean\": [0.5, 0.5, 0.5], \"std\": [0.5, 0.5, 0.5], \"input_size\": [3, 160, 160]}");
        JsonNode contract = extended(model, dir);
        assertEquals("metadata", contract.path("convention").asText());
        assertEquals("safetensors __metadata__ 'pretrained_cfg'", contract.path("source").asText());
        assertEquals("[0.5,0.5,0.5,0.5]", contract.path("mean").toString());
        TestSupport.Run run = cli("inspect", model.toString(), "--norm", "imagenet");
        assertEquals(2, run.exitCode(), run.out() + run.err());
        assertTrue(run.err().contains("contradicts what safetensors __metadata__ 'pretrained_cfg' says"), run.err());
    }

    @Test
    void bakingDoesNotApplyToAStateDict(@TempDir Path dir) {
        Path out = dir.resolve("o.safetensors");
        TestSupport.Run run = cli("extend", fixture("timm/test_resnet.safetensors").toString(), "--to", "RGBY", "--norm",
                "imagenet", "--bake-preprocessing", "-o", out.toString());
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--bake-preprocessing does not apply to a state dict: it holds weights only"), run.err());
        assertTrue(Files.notExists(out));
    }
}

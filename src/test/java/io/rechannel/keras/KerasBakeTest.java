package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --bake-preprocessing} on Keras models, judged by real Keras (keras-ref, src/test/resources/bake_judge.py):
 * the baked model must load, and on raw values (the new channel too; it starts at zero, {@code --init Y=0}) give
 * the original's outputs on the old channels preprocessed as the original expects, within {@value #TOLERANCE}
 * of their magnitude. Models the fixtures lack (a tf-mode keras.applications name, a .keras model holding a
 * Normalization) are made with the real Keras by src/test/resources/make_bake_models.py.
 */
class KerasBakeTest {

    private static final double TOLERANCE = 1e-5;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CAFFE = "103.939,116.779,123.68/1";
    private static final String TF = "127.5/127.5";
    private static final String IMAGENET = "0.485,0.456,0.406/0.229,0.224,0.225";
    private static final String CLIP = "0.48145466,0.4578275,0.40821073/0.26862954,0.26130258,0.27577711";

    /** Models made with the real Keras, once for the class. */
    private static final Supplier<Path> MADE = TestSupport.once(() -> {
        Path ref = KerasJudge.kerasRef();
        TestSupport.require(Files.isRegularFile(ref.resolve("keras_ref.py")), "keras-ref (real Keras) is not at " + ref);
        Path dir = Files.createTempDirectory("rechannel-bake-models");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> TestSupport.deleteTree(dir)));
        TestSupport.Run run = TestSupport.run(List.of("/usr/bin/python3", TestSupport.resource("make_bake_models.py").toString(),
                ref.toString(), dir.toString()));
        assertEquals(0, run.exitCode(), "making the models with keras-ref: " + run.err());
        return dir;
    });

    /**
     * One model to bake and judge: extend's arguments after MODEL and before -o, the original's preprocessing as
     * MEAN/STD in its own channel order, the range of raw values, which new channel holds each original one, and the
     * channel axis.
     */
    private record Case(String label, Supplier<Path> model, String args, String norm, double high, int[] select, int axis) {
    }

    private static Supplier<Path> fixtureOf(String relative) {
        return () -> fixture(relative);
    }

    private static Supplier<Path> made(String name) {
        return () -> MADE.get().resolve(name);
    }

    private static final List<Case> CASES = List.of(
            new Case("caffe VGG19-shaped .h5", fixtureOf("keras/tiny_vgg.h5"), "--from BGR --to RGBY --init Y=0", CAFFE, 255,
                    new int[] {2, 1, 0}, -1),
            new Case("caffe VGG19-shaped .keras", fixtureOf("keras/tiny_vgg.keras"), "--from BGR --to RGBY --init Y=0", CAFFE,
                    255, new int[] {2, 1, 0}, -1),
            new Case("tf-mode name .keras", made("xception_tiny.keras"), "--to RGBY --init Y=0", TF, 255, new int[] {0, 1, 2}, -1),
            new Case("tf-mode name .h5", made("xception_tiny.h5"), "--to RGBY --init Y=0", TF, 255, new int[] {0, 1, 2}, -1),
            new Case(".keras holding a Normalization: baked as Rescaling", made("normalized_tiny.keras"),
                    "--to RGBY --init Y=0 --norm imagenet", IMAGENET, 1, new int[] {0, 1, 2}, -1),
            new Case("channels_first .keras", fixtureOf("keras/channels_first.keras"), "--to RGBY --init Y=0 --norm clip", CLIP, 1,
                    new int[] {0, 1, 2}, 1),
            new Case("channels_first .h5", fixtureOf("keras/channels_first.h5"), "--to BGRY --init Y=0 --norm clip", CLIP, 1,
                    new int[] {2, 1, 0}, 1),
            new Case("Sequential .h5", fixtureOf("keras/sequential.h5"), "--to RGBY --init Y=0 --norm 0.5/0.25", "0.5/0.25", 1,
                    new int[] {0, 1, 2}, -1),
            new Case("Conv1D .keras", fixtureOf("keras/conv1d.keras"), "--to RGBY --init Y=0 --norm 0.5,0.4,0.3/0.25",
                    "0.5,0.4,0.3/0.25", 1, new int[] {0, 1, 2}, -1));

    private static ArrayNode numbers(String list, int count) {
        ArrayNode array = JSON.createArrayNode();
        String[] parts = list.split(",");
        for (int i = 0; i < count; i++) {
            array.add(Double.parseDouble(parts[parts.length == 1 ? 0 : i]));
        }
        return array;
    }

    @TestFactory
    Stream<DynamicNode> bakedModelsTakeRawValuesAndGiveTheOriginalsOutputs(@TempDir Path dir) {
        return TestSupport.dynamic("baked Keras models judged by real Keras", () -> {
            ArrayNode cases = JSON.createArrayNode();
            List<JsonNode> contracts = new ArrayList<>();
            for (int k = 0; k < CASES.size(); k++) {
                Case c = CASES.get(k);
                Path model = c.model().get();
                String name = model.getFileName().toString();
                Path out = dir.resolve(k + "_baked" + name.substring(name.indexOf('.')));
                List<String> args = new ArrayList<>(List.of("extend", model.toString(), "-o", out.toString(),
                        "--bake-preprocessing", "--verify", "--json"));
                args.addAll(List.of(c.args().split(" ")));
                TestSupport.Run run = cli(args.toArray(String[]::new));
                assertEquals(0, run.exitCode(), c.label() + ": " + run.err());
                contracts.add(JSON.readTree(run.out()));
                ObjectNode request = cases.addObject().put("original", model.toString()).put("adapted", out.toString())
                        .put("axis", c.axis()).put("low", 0).put("high", c.high());
                IntStream.of(c.select()).forEach(request.putArray("select")::add);
                String[] norm = c.norm().split("/");
                request.set("mean", numbers(norm[0], 3));
                request.set("std", numbers(norm[1], 3));
            }
            Path request = dir.resolve("request.json");
            Files.writeString(request, JSON.createObjectNode().set("cases", cases).toString());
            MADE.get();
            TestSupport.Run judged = TestSupport.run(List.of("/usr/bin/python3", TestSupport.resource("bake_judge.py").toString(),
                    KerasJudge.kerasRef().toString(), request.toString()));
            assertEquals(0, judged.exitCode(), "the judge: " + judged.err());
            JsonNode results = JSON.readTree(judged.out()).path("results");
            return IntStream.range(0, CASES.size()).mapToObj(k -> DynamicTest.dynamicTest(CASES.get(k).label(), () -> {
                JsonNode result = results.get(k);
                assertTrue(result.path("ok").asBoolean(), "Keras refused the baked model: " + result);
                assertEquals(result.path("originalShapes"), result.path("shapes"), result.toString());
                assertTrue(result.path("scale").asDouble() > 0, "an all-zero output proves nothing: " + result);
                assertTrue(result.path("relative").asDouble() <= TOLERANCE, "baked on raw values against the original"
                        + " on its preprocessing: " + result);
                JsonNode report = contracts.get(k);
                JsonNode contract = report.path("contract");
                assertEquals("raw", contract.path("convention").asText(), contract.toString());
                assertTrue(contract.path("baked").asBoolean(), contract.toString());
                assertTrue(contract.path("inside").get(0).asText().startsWith("rechannel_preprocessing ("), contract.toString());
                assertTrue(report.path("verification").path("layers").toString().contains("baked preprocessing (mean, std)"),
                        "extend --verify checked the baked constants: " + report.path("verification"));
            }));
        });
    }

    private static JsonNode contract(TestSupport.Run run) throws Exception {
        assertEquals(0, run.exitCode(), run.err());
        return JSON.readTree(run.out()).path("contract");
    }

    @Test
    void theCaffeModelSubtractsTheFourMeansInsideAndSaysSoWhenInspected(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("rgby.h5");
        JsonNode contract = contract(cli("extend", fixture("keras/tiny_vgg.h5").toString(), "--from", "BGR", "--to", "RGBY",
                "--init", "Y=B", "--bake-preprocessing", "-o", out.toString(), "--json"));
        assertEquals("[\"R\",\"G\",\"B\",\"Y\"]", contract.path("channels").toString());
        assertEquals("0-255", contract.path("units").asText());
        assertEquals("rechannel_preprocessing (Normalization) mean=[123.68,116.779,103.939,103.939]"
                + " variance=[1.0,1.0,1.0,1.0] [--bake-preprocessing]", contract.path("inside").get(0).asText());
        assertTrue(contract.path("notes").get(0).asText().contains("apply no preprocessing outside the model"), contract.toString());
        TestSupport.Run inspect = cli("inspect", out.toString());
        assertTrue(inspect.out().contains("raw: raw values, x in 0-255, no preprocessing outside the model"), inspect.out());
        TestSupport.Run again = cli("extend", out.toString(), "--from", "RGBY", "--to", "RGBYA", "--bake-preprocessing", "-o",
                dir.resolve("twice.h5").toString());
        assertEquals(2, again.exitCode(), again.err());
        assertTrue(again.err().contains("nothing to bake, the model already takes raw values"), again.err());
    }

    @Test
    void inModelPreprocessingLeavesNothingToBake(@TempDir Path dir) throws Exception {
        Path model = TestSupport.unxz("keras-apps/MobileNetV3Small.keras.xz", dir);
        TestSupport.Run run = cli("extend", model.toString(), "--to", "RGBY", "--bake-preprocessing", "-o",
                dir.resolve("o.keras").toString());
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("nothing to bake, the model already takes raw values (in-model, keras.applications name"),
                run.err());
        assertFalse(Files.exists(dir.resolve("o.keras")));
    }

    @Test
    void aKerasArchiveHoldingBothClassesIsRefusedByName(@TempDir Path dir) {
        Path out = dir.resolve("o.keras");
        TestSupport.Run run = cli("extend", fixture("keras/tiny_effnet.keras").toString(), "--to", "RGBY", "--norm", "imagenet",
                "--bake-preprocessing", "-o", out.toString());
        assertEquals(5, run.exitCode(), run.err());
        assertTrue(run.err().contains("model 'tiny_effnet' already has a Normalization and a Rescaling layer; in a Keras 3"
                + " weights file layers are stored by class and position"), run.err());
        assertFalse(Files.exists(out) || Files.exists(dir.resolve("o.keras.input.json")));
    }

    @Test
    void normContradictingTheNamedConventionStops(@TempDir Path dir) {
        TestSupport.Run run = cli("extend", fixture("keras/tiny_vgg.h5").toString(), "--from", "BGR", "--to", "RGBY",
                "--norm", "imagenet", "-o", dir.resolve("o.h5").toString());
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--norm imagenet (mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]) contradicts"
                + " what keras.applications name 'vgg19_tiny' says the model expects (caffe: mean [103.939, 116.779, 123.68]"), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertEquals(2, cli("inspect", fixture("keras/tiny_vgg.h5").toString(), "--norm", "clip").exitCode());
    }

    @Test
    void statsGoToTheContractWhenNoLayerNormalisesInside(@TempDir Path dir) throws Exception {
        JsonNode contract = contract(cli("extend", fixture("keras/tiny_vgg.h5").toString(), "--from", "BGR", "--to", "RGBY",
                "--stats", "Y=mean:80,std:2", "-o", dir.resolve("o.h5").toString(), "--json"));
        assertEquals("[123.68,116.779,103.939,80.0]", contract.path("mean").toString());
        assertEquals("[1.0,1.0,1.0,2.0]", contract.path("std").toString());
    }

    @Test
    void denseNetTakesTorchStatisticsScaledTo255(@TempDir Path dir) throws Exception {
        Path model = TestSupport.unxz("keras-apps/DenseNet121.h5.xz", dir);
        JsonNode contract = contract(cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=G", "-o",
                dir.resolve("o.h5").toString(), "--json"));
        assertEquals("torch", contract.path("convention").asText());
        assertEquals("[123.675,116.28,103.53,116.28]", contract.path("mean").toString());
        assertEquals("[58.395,57.12,57.375,57.12]", contract.path("std").toString());
        assertEquals("torch mode: the ImageNet mean and std of 0-1 images, times 255 (x in 0-255)",
                contract.path("notes").get(0).asText());
    }

    @Test
    void tfModeSaysItsRange(@TempDir Path dir) throws Exception {
        JsonNode contract = contract(cli("extend", MADE.get().resolve("xception_tiny.h5").toString(), "--to", "RGBY", "-o",
                dir.resolve("o.h5").toString(), "--json"));
        assertEquals("tf", contract.path("convention").asText());
        assertEquals("[127.5,127.5,127.5,127.5]", contract.path("mean").toString());
        assertEquals("tf mode: (x - 127.5) / 127.5 takes 0-255 to [-1, 1], the range the model was trained on",
                contract.path("notes").get(0).asText());
    }

    @Test
    void aWeightsOnlyFileHasNoConfigToBakeInto(@TempDir Path dir) {
        TestSupport.Run run = cli("extend", fixture("keras/tiny_vgg.weights.h5").toString(), "--layer", "layers/conv2d",
                "--to", "RGBY", "--norm", "imagenet", "--bake-preprocessing", "-o", dir.resolve("o.weights.h5").toString());
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--bake-preprocessing puts a layer into the model config, and the file has none"),
                run.err());
    }
}

package io.rechannel.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.rechannel.TestSupport;
import io.rechannel.hdf5.Hdf5File;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Keras models whose raw input is read directly and through {@code Concatenate}s (the model, channels_first,
 * the input twice and behind BatchNormalization/ReLU in nested concatenations, a nested backbone, keras.ops.concatenate),
 * made with the real Keras (fixtures/graph/make_keras_concat.py). Every adapted file must load in the real Keras and
 * compute what the original computes: with {@code Y=0} on the old channels, for a reordering on the reordered input.
 */
class ConcatenatedInputTest {

    private static final Path FIXTURES = Path.of("src/test/resources/fixtures/graph");
    private static final List<String> MODELS = List.of("concat_input", "concat_channels_first", "concat_general", "concat_nested",
            "concat_ops");

    @TempDir
    static Path dir;

    /** One adaptation and what the real Keras made of it. */
    private record Case(String name, Path original, Path adapted, int axis, String keep, TestSupport.Run run) {
    }

    private static final Map<String, Case> cases = new LinkedHashMap<>();
    private static final Map<String, JsonNode> judged = new LinkedHashMap<>();

    @BeforeAll
    static void adaptAndJudge() throws Exception {
        for (String model : MODELS) {
            int axis = model.contains("channels_first") ? 1 : -1;
            for (String ext : List.of("h5", "keras")) {
                adapt(model + "." + ext + " Y=0", model + "." + ext, axis, "0,1,2", "--to", "RGBY", "--init", "Y=0");
            }
        }
        // a pure reordering: the adapted model on x equals the original on x permuted
        adapt("concat_general.h5 BGR->RGB", "concat_general.h5", -1, "2,1,0", "--from", "BGR", "--to", "RGB");
        adapt("concat_nested.keras BGR->RGB", "concat_nested.keras", -1, "2,1,0", "--from", "BGR", "--to", "RGB");
        // other initialisations define no output to compare with: the file must load and predict finite values
        adapt("concat_general.keras mean", "concat_general.keras", -1, "-", "--to", "RGBY");
        adapt("concat_channels_first.h5 timm", "concat_channels_first.h5", 1, "-", "--to", "RGBY", "--init", "timm");
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", FIXTURES.resolve("judge_keras.py").toString(),
                kerasRef().toString()));
        List<Case> done = cases.values().stream().filter(c -> c.run().exitCode() == 0).toList();
        for (Case c : done) {
            command.addAll(List.of(c.original().toString(), c.adapted().toString(), String.valueOf(c.axis()), c.keep()));
        }
        TestSupport.Run judge = TestSupport.run(command);
        List<String> lines = judge.out().lines().toList();
        assertEquals(done.size(), lines.size(), "one verdict per model: " + judge.out() + judge.err());
        for (int i = 0; i < done.size(); i++) {
            judged.put(done.get(i).name(), new ObjectMapper().readTree(lines.get(i)));
        }
    }

    private static void adapt(String name, String file, int axis, String keep, String... options) {
        Path adapted = dir.resolve(name.replaceAll("[^A-Za-z0-9_.]", "_") + "." + file.replaceAll(".*\\.", ""));
        List<String> args = new ArrayList<>(List.of("extend", FIXTURES.resolve(file).toString(), "-o", adapted.toString(),
                "--verify"));
        args.addAll(List.of(options));
        cases.put(name, new Case(name, FIXTURES.resolve(file), adapted, axis, keep, cli(args.toArray(String[]::new))));
    }

    private static Path kerasRef() {
        Path ref = KerasJudge.kerasRef();
        TestSupport.require(Files.isRegularFile(ref.resolve("keras_ref.py")), "real Keras (keras-ref) not found at " + ref);
        return ref;
    }

    @TestFactory
    Stream<DynamicTest> everyAdaptedModelLoadsInRealKerasAndComputesTheOriginal() {
        return cases.values().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            assertEquals(0, c.run().exitCode(), c.run().out() + c.run().err());
            JsonNode verdict = judged.get(c.name());
            if (verdict.has("error")) {
                fail("Keras refused or could not run " + c.adapted().getFileName() + ": " + verdict.get("error").asText());
            }
            if (!c.keep().equals("-")) {
                assertTrue(verdict.get("max_rel").asDouble() <= 1e-5, verdict.toString());
            }
        }));
    }

    /** concat_general's conv_c reads [conv_a(x), x, relu(bn(x)), x]: three slices of the input among 13 channels. */
    @Test
    void eachSliceOfTheInputIsMixedAndEverythingBetweenKept() throws Exception {
        Path adapted = cases.get("concat_general.h5 Y=0").adapted();
        String kernel = "/model_weights/conv_c/conv_c/kernel";
        try (Hdf5File a = Hdf5File.open(FIXTURES.resolve("concat_general.h5"), false); Hdf5File b = Hdf5File.open(adapted, false)) {
            assertArrayEquals(new long[] {3, 3, 16, 6}, b.dataset(kernel).shape());
            double[] old = a.readDoubles(kernel);
            double[] updated = b.readDoubles(kernel);
            // new channel -> old channel (-1: the new Y, all zero): a's 4, then x (R G B Y) three times
            int[] source = {0, 1, 2, 3, 4, 5, 6, -1, 7, 8, 9, -1, 10, 11, 12, -1};
            for (int pos = 0; pos < 9; pos++) {
                for (int c = 0; c < 16; c++) {
                    for (int f = 0; f < 6; f++) {
                        double expected = source[c] < 0 ? 0 : old[(pos * 13 + source[c]) * 6 + f];
                        assertEquals(expected, updated[(pos * 16 + c) * 6 + f], "position " + pos + " channel " + c);
                    }
                }
            }
            assertArrayEquals(new long[] {1, 1, 8, 5}, b.dataset("/model_weights/conv_d/conv_d/kernel").shape());
        }
    }

    /**
     * Keras builds each layer from its build_config and checks each call's recorded shapes: every count that holds the
     * input's channels changes, downstream of the concatenation too (after_concat: 19 -> 20), and nothing else does.
     */
    @Test
    void everyRecordedChannelCountOfTheArchiveFollowsAndNothingElseChanges() throws Exception {
        List<String> changed = new ArrayList<>();
        diff("", config(FIXTURES.resolve("concat_input.keras")), config(cases.get("concat_input.keras Y=0").adapted()), changed);
        String layers = "/config/layers/";
        assertEquals(List.of(
                layers + "0/config/batch_shape/3: 3 -> 4",
                layers + "1/build_config/input_shape/3: 3 -> 4",
                layers + "1/inbound_nodes/0/args/0/config/shape/3: 3 -> 4",
                layers + "2/build_config/input_shape/3: 3 -> 4",
                layers + "2/inbound_nodes/0/args/0/config/shape/3: 3 -> 4",
                layers + "3/build_config/input_shape/0/3: 3 -> 4",
                layers + "3/inbound_nodes/0/args/0/0/config/shape/3: 3 -> 4",
                layers + "4/build_config/input_shape/3: 19 -> 20",
                layers + "4/inbound_nodes/0/args/0/config/shape/3: 19 -> 20"), changed);
    }

    private static void diff(String path, JsonNode a, JsonNode b, List<String> changed) {
        if (a.isContainerNode() && b.isContainerNode() && a.size() == b.size()) {
            if (a.isArray()) {
                for (int i = 0; i < a.size(); i++) {
                    diff(path + "/" + i, a.get(i), b.get(i), changed);
                }
            } else {
                a.fieldNames().forEachRemaining(f -> diff(path + "/" + f, a.get(f), b.path(f), changed));
            }
        } else if (!a.equals(b)) {
            changed.add(path + ": " + a + " -> " + b);
        }
    }

    private static JsonNode config(Path archive) throws Exception {
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            return new ObjectMapper().readTree(zip.getInputStream(zip.getEntry("config.json")));
        }
    }
}

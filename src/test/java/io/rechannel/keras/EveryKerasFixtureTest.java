package io.rechannel.keras;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Walks every Keras model file in the fixtures, whatever its channel count (the RGBY templates too):
 * inspect it, add one channel, verify, and inspect the result.
 */
class EveryKerasFixtureTest {

    @TempDir
    static Path dir;

    @TestFactory
    Stream<DynamicNode> everyCoreModelFileAddsAChannel() {
        return TestSupport.dynamic("the core set's Keras files", () -> {
            return addOneChannel(TestSupport.core().resolve("keras"), name -> true);
        });
    }

    @TestFactory
    Stream<DynamicNode> everyCorpusModelFileAddsAChannel() {
        return TestSupport.dynamic("the corpus's Keras files", () -> {
            Path core = TestSupport.core().resolve("keras");
            return addOneChannel(TestSupport.corpus().resolve("keras"), name -> !Files.exists(core.resolve(name)));
        });
    }

    private static Stream<DynamicTest> addOneChannel(Path folder, Predicate<String> include) throws Exception {
        List<Path> files = JudgedModel.kerasFiles(folder, include).stream()
                .filter(p -> !p.toString().endsWith(".weights.h5")).toList();
        return files.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            String name = file.getFileName().toString();
            List<String> input = name.startsWith("two_inputs") ? List.of("--input", "image") : List.of();
            int channels = JudgedModel.of(file, null, input, 1, 1).channels();
            Path out = dir.resolve("plus1-" + name);
            // a separable first layer takes copies only
            String init = name.startsWith("separable_stem") ? "copy-last" : "mean";
            // a 3-channel model is taken as it is (caffe-style models would otherwise stop, asking for --from)
            String from = channels == 3 ? "RGB" : String.valueOf(channels);
            List<String> args = new ArrayList<>(List.of("extend", file.toString(), "--from", from,
                    "--to", String.valueOf(channels + 1), "--init", init, "-o", out.toString(), "--force", "--verify"));
            args.addAll(input);
            TestSupport.Run run = cli(args.toArray(String[]::new));
            assertEquals(0, run.exitCode(), run.out() + run.err());
            assertEquals(channels + 1, JudgedModel.of(out, null, input, 1, 1).channels());
        }));
    }
}

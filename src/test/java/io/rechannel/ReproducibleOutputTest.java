package io.rechannel;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The same input and options give byte-identical outputs, for every format: two runs, a little over
 * two seconds apart (HDF5 object times count seconds, zip times two seconds), into two folders under
 * the same file name, must write the same bytes.
 */
class ReproducibleOutputTest {

    @TempDir
    Path dir;

    private record Case(String name, String input, String outputName, List<String> options) {
    }

    @TestFactory
    Stream<DynamicTest> twoRunsWriteTheSameBytes() {
        List<Case> cases = List.of(
                new Case("keras legacy .h5", "examples/tiny_vgg.h5", "out.h5", List.of("--from", "BGR", "--to", "RGBY")),
                new Case("onnx with external data", "examples/small_cnn.onnx", "out.onnx", List.of("--to", "4")),
                new Case("keras .keras archive", "keras/tiny_vgg.keras", "out.keras", List.of("--from", "RGB", "--to", "RGBY", "--init", "Y=B")),
                new Case("keras .weights.h5 with its config", "keras/tiny_vgg.weights.h5", "out.weights.h5",
                        List.of("--from", "RGB", "--to", "RGBY", "--config", "keras/tiny_vgg.keras")),
                new Case("safetensors", "timm/test_resnet.safetensors", "out.safetensors", List.of("--to", "4", "--init", "timm")),
                new Case("torch.save checkpoint", "timm/test_resnet.pth", "out.pth", List.of("--to", "RGBY", "--init", "Y=mean")));
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    private void check(Case c) throws Exception {
        List<Path> outputs = new ArrayList<>();
        for (int run = 0; run < 2; run++) {
            if (run > 0) {
                Thread.sleep(2100);
            }
            Path folder = Files.createDirectories(dir.resolve(c.name().replace(' ', '_') + run));
            Path out = folder.resolve(c.outputName());
            List<String> args = new ArrayList<>(List.of("extend", resolve(c.input()), "-o", out.toString()));
            for (int i = 0; i < c.options().size(); i++) {
                String option = c.options().get(i);
                args.add(i > 0 && c.options().get(i - 1).equals("--config") ? resolve(option) : option);
            }
            TestSupport.Run result = cli(args.toArray(String[]::new));
            assertEquals(0, result.exitCode(), result.out() + result.err());
            outputs.add(out);
        }
        assertArrayEquals(Files.readAllBytes(outputs.get(0)), Files.readAllBytes(outputs.get(1)), c.name());
        Path data0 = outputs.get(0).resolveSibling(c.outputName() + ".data");
        if (Files.exists(data0)) {
            assertArrayEquals(Files.readAllBytes(data0),
                    Files.readAllBytes(outputs.get(1).resolveSibling(c.outputName() + ".data")), c.name() + " data");
        }
    }

    /** Repository examples by their path; corpus fixtures through the fixture lookup. */
    private static String resolve(String path) {
        return path.startsWith("examples/") ? path : TestSupport.fixture(path).toString();
    }
}

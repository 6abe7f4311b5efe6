package io.rechannel.torch;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** timm's resnet50, efficientnet_b0 and resnet18 state dicts (weights filled with random values) adapt with every initialisation. */
class TimmAppsEveryInitTest {

    private static final String[][] INITS = {{"--to", "RGBY", "--init", "timm"}, {"--to", "RGBY", "--init", "Y=B"},
        {"--to", "RGBY", "--init", "Y=0"}, {"--to", "RGBY", "--init", "Y=mean"}, {"--to", "RGBY", "--init", "Y=sum"},
        {"--to", "RGBY", "--init", "Y=random", "--seed", "7"}, {"--to", "RGBY", "--init", "copy-last"},
        {"--to", "RGBY", "--init", "Y=0.5*R+0.5*G"}, {"--to", "RGBY"}, {"--to", "L"}, {"--to", "1", "--init", "timm"},
        {"--to", "13", "--init", "timm"}, {"--from", "RGB", "--to", "BGR"}};

    @TempDir
    static Path dir;

    @TestFactory
    List<DynamicTest> everyInitialisation() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : new String[] {"timm_resnet50", "timm_efficientnet_b0", "timm_resnet18"}) {
            Path input = TestSupport.unxz("onnx-apps/" + model + ".safetensors.xz", dir);
            fillRandom(input);
            for (String[] init : INITS) {
                tests.add(DynamicTest.dynamicTest(model + " " + String.join(" ", init), () -> {
                    Path out = dir.resolve(model + "-out.safetensors");
                    List<String> args = new ArrayList<>(List.of("extend", input.toString(), "-o", out.toString(), "--force",
                            "--verify"));
                    args.addAll(List.of(init));
                    TestSupport.Run run = cli(args.toArray(String[]::new));
                    assertEquals(0, run.exitCode(), run.out() + run.err());
                    assertTrue(run.out().contains("verified: "), run.out());
                    if (init.length == 2 && init[1].equals("RGBY")) {
                        // without --to, verify recovers the map: the default gives Y the mean of R, G and B
                        TestSupport.Run recovered = cli("verify", input.toString(), out.toString());
                        assertEquals(0, recovered.exitCode(), recovered.out() + recovered.err());
                        assertTrue(recovered.out().contains("c3=0.333333*R+0.333333*G+0.333333*B"), recovered.out());
                    }
                }));
            }
        }
        return tests;
    }

    /** Replaces every float32 tensor's values by random ones in place: the fixtures are zero-filled. */
    static void fillRandom(Path file) throws IOException {
        SafetensorsFile st = SafetensorsFile.read(file);
        SplittableRandom random = new SplittableRandom(11);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            for (SafetensorsFile.Entry e : st.entries()) {
                if (!e.tensor().dtype().equals("F32")) {
                    continue;
                }
                ByteBuffer values = ByteBuffer.allocate(Math.toIntExact(e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
                while (values.hasRemaining()) {
                    values.putFloat((float) random.nextDouble(-0.1, 0.1));
                }
                channel.write(values.flip(), st.dataStart() + e.begin());
            }
        }
    }
}

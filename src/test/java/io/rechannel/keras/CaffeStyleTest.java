package io.rechannel.keras;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** A caffe-style keras.applications model (first channel blue) is never extended as RGB without being told. */
class CaffeStyleTest {

    private static TestSupport.Run extend(Path model, Path out, String... from) {
        String[] head = {"extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "-o", out.toString(), "--force"};
        String[] all = java.util.Arrays.copyOf(head, head.length + from.length);
        System.arraycopy(from, 0, all, head.length, from.length);
        return cli(all);
    }

    @ParameterizedTest
    @ValueSource(strings = {"VGG19.h5.xz", "ResNet50.h5.xz", "VGG19.keras.xz"})
    void caffeStyleModelsStopWithoutFromAndProceedWithIt(String name, @TempDir Path dir) throws Exception {
        Path model = TestSupport.unxz("keras-apps/" + name, dir);
        String suffix = name.endsWith(".keras.xz") ? ".keras" : ".h5";
        Path out = dir.resolve("rgby" + suffix);
        TestSupport.Run stopped = extend(model, out);
        String modelName = name.startsWith("VGG19") ? "vgg19" : "resnet50";
        assertEquals(2, stopped.exitCode(), stopped.out() + stopped.err());
        assertEquals("rechannel: " + model + ": '" + modelName + "' looks like a caffe-style keras.applications model,"
                + " whose first channel is blue: pass --from BGR (the usual meaning) or --from RGB (to take the channels"
                + " as they are)\n", stopped.err());
        assertFalse(Files.exists(out), "nothing written");
        TestSupport.Run bgr = extend(model, out, "--from", "BGR");
        assertEquals(0, bgr.exitCode(), bgr.err());
        assertEquals("wrote " + out + ": BGR -> RGBY", bgr.out().lines().findFirst().orElseThrow());
        TestSupport.Run rgb = extend(model, out, "--from", "RGB");
        assertEquals(0, rgb.exitCode(), rgb.err());
        assertEquals("wrote " + out + ": RGB -> RGBY", rgb.out().lines().findFirst().orElseThrow());
    }

    @ParameterizedTest
    @ValueSource(strings = {"EfficientNetB0.h5.xz", "MobileNetV3Small.h5.xz"})
    void otherApplicationsDoNotStop(String name, @TempDir Path dir) throws Exception {
        Path model = TestSupport.unxz("keras-apps/" + name, dir);
        TestSupport.Run run = extend(model, dir.resolve("rgby.h5"));
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("", run.err());
    }

    @Test
    void aNestedCaffeStyleBackboneStopsToo(@TempDir Path dir) {
        TestSupport.Run run = extend(fixture("keras/hpa_nested_vgg.h5"), dir.resolve("o.h5"));
        assertEquals(2, run.exitCode(), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertEquals(true, run.err().contains("'vgg19_tiny' looks like a caffe-style"), run.err());
    }
}

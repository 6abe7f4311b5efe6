package io.rechannel.core;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's word for what a map does to a kernel: a plain copy is "copied", never "mixed". */
class KernelChangeLabelTest {

    @ParameterizedTest(name = "--from {0} --to {1} --init {2}: {3}")
    @CsvSource(delimiter = '|', value = {
        "RGB|RGBY|Y=B|copied",
        "RGB|RGBY|copy-last|copied",
        "BGR|RGBY|Y=B|reordered, copied",
        "RGB|BGR||reordered",
        "RGB|RGBY|Y=0|zero",
        "RGB|RGBY|zeros|zero",
        "RGB|RGBY|Y=mean|mixed",
        "RGB|RGBY||mixed",
        "RGB|RGBY|Y=2*B|mixed",
        "RGB|RGBY|timm|mixed",
        "RGB|RGBY|Y=random|random",
        "RGB|GB||dropped",
        "RGB|L|L=G|copied, dropped",
        "RGB|L|L=0.299*R+0.587*G+0.114*B|mixed",
        "BGR|RGBYZ|Y=B,Z=0|reordered, copied, zero",
    })
    void eachMapIsNamedByWhatItDoes(String from, String to, String inits, String label) {
        List<String> rules = inits == null ? List.of() : List.of(inits.split(","));
        assertEquals(label, ChannelMap.build(ChannelLayout.parse(from), ChannelLayout.parse(to), rules, 0).kernelChange());
    }

    /** The report of extend, in each format: the kernel's line ends with the word for its map. */
    @ParameterizedTest(name = "{0} --from {1} --init {2}: {3}")
    @CsvSource(delimiter = '|', value = {
        "examples/tiny_vgg.h5|RGB|Y=B|/model_weights/block1_conv1/block1_conv1/kernel [3, 3, 3, 8] -> [3, 3, 4, 8] (copied)",
        "examples/tiny_vgg.h5|BGR|Y=B|/model_weights/block1_conv1/block1_conv1/kernel [3, 3, 3, 8] -> [3, 3, 4, 8] (reordered, copied)",
        "examples/tiny_vgg.keras|BGR|Y=0|/layers/conv2d/vars/0 [3, 3, 3, 8] -> [3, 3, 4, 8] (reordered, zero)",
        "examples/small_cnn.onnx|RGB|Y=B|(copied)",
        "examples/small_cnn.onnx|RGB|mean|(mixed)",
    })
    void extendSaysWhatHappenedToEachKernel(String model, String from, String init, String line, @TempDir Path dir) {
        String name = Path.of(model).getFileName().toString();
        TestSupport.Run run = TestSupport.cli("extend", model, "--from", from, "--to", "RGBY", "--init", init,
                "-o", dir.resolve("out" + name.substring(name.indexOf('.'))).toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().lines().anyMatch(l -> l.endsWith(line)), line + " in: " + run.out());
    }
}

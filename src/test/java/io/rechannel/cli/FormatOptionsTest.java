package io.rechannel.cli;

import io.rechannel.TestSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A format-specific choice given for a format that has no use for it is refused, naming the option. */
class FormatOptionsTest {

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
        "inspect, examples/small_cnn.onnx, --layer, conv1, ONNX .onnx",
        "inspect, examples/small_cnn.onnx, --config, examples/tiny_vgg.h5, ONNX .onnx",
        "inspect, examples/small_cnn.onnx, --tensor, 0.weight, ONNX .onnx",
        "inspect, examples/tiny_vgg.h5, --tensor, block1_conv1, Keras .h5/.hdf5 and Keras 3 .weights.h5",
        "extend, examples/small_cnn.onnx, --layer, conv1, ONNX .onnx",
        "extend, examples/tiny_vgg.h5, --tensor, block1_conv1, Keras .h5/.hdf5 and Keras 3 .weights.h5"})
    void refusedWithExitTwo(String command, String model, String option, String value, String format) {
        TestSupport.Run run = command.equals("extend")
                ? cli(command, model, option, value, "--to", "RGBY", "--from", "RGB", "-o", "target/never-written" + model.substring(model.lastIndexOf('.')))
                : cli(command, model, option, value);
        assertEquals(2, run.exitCode(), run.out() + run.err());
        assertEquals("rechannel: " + model + ": " + option + " does not apply to " + format + " files\n", run.err());
    }
}

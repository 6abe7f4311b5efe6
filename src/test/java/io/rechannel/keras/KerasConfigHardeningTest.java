package io.rechannel.keras;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static io.rechannel.keras.Refusals.assertHolds;
import static io.rechannel.keras.Refusals.assertRefused;
import static io.rechannel.keras.Refusals.craftConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Model configs that no Keras writes (issue 7: dangling references, cycles) and options given where they do
 * not apply: a clear refusal naming the layer or the option.
 */
class KerasConfigHardeningTest {

    private static final String INBOUND = "['inbound_nodes'][0]['args'][0]['config']['keras_history'][0]";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "reference to a missing layer|layer('block1_conv2')" + INBOUND + " = 'ghost'"
                + "|layer 'block1_conv2' reads 'ghost', which is not a layer of the model config",
        "cycle|layer('block1_conv1')" + INBOUND + " = 'block1_conv2'"
                + "|layer 'block1_conv1' depends on its own output (the model config's layers form a cycle)",
        "self-loop|layer('block1_conv1')" + INBOUND + " = 'block1_conv1'"
                + "|layer 'block1_conv1' depends on its own output",
        "two layers of one name|c['config']['layers'][2]['name'] = 'block1_conv1'; c['config']['layers'][2]['config']['name'] = 'block1_conv1'"
                + "|the model config has two layers named 'block1_conv1'",
        "a number in the layer list|c['config']['layers'][3] = 5"
                + "|the layer list of the model holds 5 where Keras writes a layer",
        "a reference that is not a list|layer('block1_conv2')['inbound_nodes'] = [[7]]; layer('block1_conv2')['inbound_nodes'][0] = [[7, 0, 0, {}]]"
                + "|the model config has a layer reference [7,0,0,{}] where Keras writes [name, node, tensor]"})
    void brokenConfigIsNamed(String kind, String python, String reason, @TempDir Path dir) throws Exception {
        Path model = craftConfig(dir, "cfg.h5", python);
        assertRefused(cli("extend", model.toString(), "--to", "RGBY", "-o", dir.resolve("o.h5").toString()), 4,
                "cfg.h5: " + reason);
        assertHolds(dir, "cfg.h5");
    }

    /** --layer and --config stand in for a missing model config; where the file has its own, they are mistakes. */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', value = {
        "keras/tiny_vgg.h5|--layer|block1_conv1|--layer applies only to weights files without a model config",
        "keras/tiny_vgg.h5|--config|keras/tiny_vgg.keras|--config applies only to Keras 3 .weights.h5 files",
        "keras/tiny_vgg.keras|--layer|block1_conv1|--layer applies only to weights files without a model config",
        "keras/tiny_vgg.keras|--config|keras/tiny_vgg.keras|--config applies only to Keras 3 .weights.h5 files"})
    void optionThatDoesNotApplyIsAUsageError(String model, String option, String value, String reason, @TempDir Path dir) {
        String argument = option.equals("--config") ? fixture(value).toString() : value;
        for (String command : new String[] {"inspect", "extend"}) {
            TestSupport.Run run = command.equals("inspect") ? cli("inspect", fixture(model).toString(), option, argument)
                    : cli("extend", fixture(model).toString(), "--from", "BGR", "--to", "RGBY", "-o",
                            dir.resolve("o" + model.substring(model.lastIndexOf('.'))).toString(), option, argument);
            assertRefused(run, 2, fixture(model).getFileName().toString(), reason);
        }
    }

    @Test
    void weightsFileTakesConfigOrLayerNotBoth(@TempDir Path dir) {
        TestSupport.Run run = cli("inspect", fixture("keras/tiny_vgg.weights.h5").toString(), "--config",
                fixture("keras/tiny_vgg.keras").toString(), "--layer", "layers/conv2d");
        assertRefused(run, 2, "tiny_vgg.weights.h5: give either --config or --layer, not both");
        assertEquals(0, cli("inspect", fixture("keras/tiny_vgg.weights.h5").toString(), "--layer", "layers/conv2d").exitCode());
    }

    /** A --config file over the size limit is refused before it is read. */
    @Test
    void configFileOverTheLimitIsRefused(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("config.json");
        try (var out = Files.newOutputStream(config)) {
            out.write('{');
            byte[] spaces = new byte[1 << 20];
            java.util.Arrays.fill(spaces, (byte) ' ');
            for (int i = 0; i < 65; i++) {
                out.write(spaces);
            }
            out.write('}');
        }
        assertRefused(cli("inspect", fixture("keras/tiny_vgg.weights.h5").toString(), "--config", config.toString()), 5,
                "config.json: 68157442 bytes, over rechannel's limit of 64 MiB for a config (--config)");
    }
}

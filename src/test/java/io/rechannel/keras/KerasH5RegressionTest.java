package io.rechannel.keras;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Inputs that crashed the native HDF5 library, run in a separate JVM (a regression would crash it, not
 * the test JVM) through inspect, extend and verify with the fuzz tests' checks (see {@link FuzzHarness}).
 */
class KerasH5RegressionTest {

    /**
     * The variable-length reference of tiny_vgg.h5's model_config lies at bytes 1040–1055: length, global
     * heap address, object index. A flipped byte in the index made the library read outside the heap
     * (it does not check the index; h5py crashes too). Each must now end in exit 4 naming the attribute.
     */
    @ParameterizedTest(name = "byte {0} of tiny_vgg.h5 xor 0xD4")
    @ValueSource(ints = {1052, 1053, 1054, 1055})
    void flippedByteInTheConfigsHeapReference(int offset) throws Exception {
        List<List<FuzzHarness.Outcome>> outcomes = new FuzzHarness("model.h5", Files.readAllBytes(Path.of("examples/tiny_vgg.h5")))
                .check(List.of(List.of(new Mutations.Flip(offset, 0xD4))));
        for (FuzzHarness.Outcome outcome : outcomes.get(0)) {
            assertEquals(4, outcome.exitCode(), outcome.toString());
            assertTrue(outcome.err().contains("model.h5: attribute /@model_config: its variable-length value refers to no"
                    + " object"), outcome.err());
        }
    }
}

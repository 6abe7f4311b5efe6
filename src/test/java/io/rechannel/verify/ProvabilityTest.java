package io.rechannel.verify;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static io.rechannel.TestSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Zero-filled weights agree with every channel map: verify says it proved nothing (exit 8), both with the
 * map given (every tap zero) and without it (the map cannot be recovered), in every format.
 */
class ProvabilityTest {

    @ParameterizedTest
    @CsvSource({"keras-apps/EfficientNetB0.h5.xz, rgby.h5", "onnx-apps/timm_resnet18.safetensors.xz, rgby.safetensors"})
    void zeroWeightsProveNothing(String fixture, String output, @TempDir Path dir) throws Exception {
        Path model = TestSupport.unxz(fixture, dir);
        Path out = dir.resolve(output);
        TestSupport.Run extend = cli("extend", model.toString(), "--to", "RGBY", "--init", "Y=B", "-o", out.toString());
        assertEquals(0, extend.exitCode(), extend.err());
        TestSupport.Run given = cli("verify", model.toString(), out.toString(), "--to", "RGBY", "--init", "Y=B");
        assertEquals(8, given.exitCode(), given.out() + given.err());
        assertTrue(given.out().startsWith("not provable from the weights: " + out), given.out());
        assertTrue(given.out().contains("not provable from the weights (all taps zero)"), given.out());
        TestSupport.Run json = cli("verify", model.toString(), out.toString(), "--to", "RGBY", "--init", "Y=B", "--json");
        assertEquals(8, json.exitCode(), json.err());
        var report = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
        assertEquals("not provable from the weights", report.path("status").asText(), json.out());
        assertEquals(false, report.path("provable").asBoolean(true), json.out());
        TestSupport.Run recovered = cli("verify", model.toString(), out.toString());
        assertEquals(8, recovered.exitCode(), recovered.out() + recovered.err());
        assertEquals(1, recovered.err().lines().count(), recovered.err());
        assertTrue(recovered.err().contains("the channel map cannot be recovered from it"), recovered.err());
    }
}

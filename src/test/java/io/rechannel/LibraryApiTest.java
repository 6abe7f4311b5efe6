package io.rechannel;

import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelLayout;
import io.rechannel.format.AdaptResult;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.ModelFormats;
import io.rechannel.format.VerifyResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's library example, as written there. */
class LibraryApiTest {

    @Test
    void readmeExample(@TempDir Path dir) {
        Path input = TestSupport.fixture("keras/tiny_vgg.keras");
        Path output = dir.resolve("rgby.keras");
        AdaptOptions options = new AdaptOptions(ChannelLayout.parse("BGR"), ChannelLayout.parse("RGBY"),
                List.of("Y=B"), 0, null, Set.of(), Map.of(), false, null, null);
        ModelFormat format = ModelFormats.forFile(input);
        AdaptResult result = format.extend(input, output, false, options);
        VerifyResult proof = format.verify(input, output, options);
        assertTrue(proof.passed(), proof.toString());
        assertEquals(List.of("R=R", "G=G", "B=B", "Y=B"), result.rules());
        assertEquals("keras", format.name());
    }
}

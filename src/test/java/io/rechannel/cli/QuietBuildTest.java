package io.rechannel.cli;

import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The README's first command builds with {@code mvn -q}: it prints nothing. Debian's Maven 3.8 wrote a stray
 * colour reset ({@code ESC[0m}) per stream as it ended; {@code .mvn/jvm.config} turns that reset off.
 */
class QuietBuildTest {

    @Test
    void aQuietBuildPrintsNothing() throws Exception {
        Path mvn = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .map(dir -> Path.of(dir, "mvn")).filter(Files::isExecutable).findFirst().orElse(null);
        TestSupport.require(mvn != null, "mvn on the PATH");
        TestSupport.Run run = TestSupport.run(List.of(mvn.toString(), "-q", "-o", "validate"));
        assertEquals(0, run.exitCode(), run.out() + run.err());
        assertEquals("", run.out().replace("\u001b", "ESC"), "stdout");
        assertEquals("", run.err().replace("\u001b", "ESC"), "stderr");
    }
}

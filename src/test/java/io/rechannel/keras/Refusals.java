package io.rechannel.keras;

import io.rechannel.TestSupport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the hardening tests expect of a refusal, and crafted copies of the bundled example. */
final class Refusals {

    static final Path EXAMPLE = Path.of("examples/tiny_vgg.h5");

    private Refusals() {
    }

    /** One line on stderr, the documented code, every expected part, no stack trace, no scratch file named. */
    static void assertRefused(TestSupport.Run run, int code, String... expected) {
        assertEquals(code, run.exitCode(), run.out() + run.err());
        assertEquals(1, run.err().lines().count(), "one line: " + run.err());
        assertTrue(run.err().startsWith("rechannel: "), run.err());
        for (String part : expected) {
            assertTrue(run.err().contains(part), "expected '" + part + "' in: " + run.err());
        }
        assertFalse(run.err().contains("\tat "), "no stack trace: " + run.err());
        assertFalse(run.err().contains(".part"), "no scratch file named: " + run.err());
    }

    /** The folder holds exactly these files (nothing left behind). */
    static void assertHolds(Path dir, String... names) throws Exception {
        Set<String> present = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.forEach(p -> present.add(p.getFileName().toString()));
        }
        assertEquals(new TreeSet<>(Set.of(names)), present);
    }

    /**
     * A copy of tiny_vgg.h5 named {@code name} in {@code dir}, changed by Python lines run with h5py,
     * where {@code f} is the file opened for writing and K and B name block1_conv1's kernel and bias.
     */
    static Path craft(Path dir, String name, String... lines) throws Exception {
        Path copy = dir.resolve(name);
        Files.copy(EXAMPLE, copy, StandardCopyOption.REPLACE_EXISTING);
        TestSupport.python(String.join("\n",
                "import h5py, json, sys, os, numpy as np",
                "os.chdir(os.path.dirname(sys.argv[1]))",
                "f = h5py.File(sys.argv[1], 'r+')",
                "K = 'model_weights/block1_conv1/block1_conv1/kernel'",
                "B = 'model_weights/block1_conv1/block1_conv1/bias'",
                String.join("\n", lines),
                "f.close()"), copy.toString());
        return copy;
    }

    /** Python lines that change the model config of tiny_vgg.h5: {@code c} is the parsed config, {@code layer(name)} finds one. */
    static Path craftConfig(Path dir, String name, String... lines) throws Exception {
        return craft(dir, name,
                "c = json.loads(f.attrs['model_config'])",
                "def layer(n): return [l for l in c['config']['layers'] if l['name'] == n][0]",
                String.join("\n", lines),
                "f.attrs['model_config'] = json.dumps(c)");
    }
}

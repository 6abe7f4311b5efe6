package io.rechannel;

import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The core fixture set is what its PROVENANCE.md says it is: every file listed, copies equal to the corpus. */
class CoreFixturesTest {

    private static final Pattern ROW = Pattern.compile("^\\| `([^`]+)` \\| ([^|]+) \\|");

    /** file → how it came here, from the provenance table. */
    private static Map<String, String> provenance() throws Exception {
        Map<String, String> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(TestSupport.core().resolve("PROVENANCE.md"))) {
            Matcher row = ROW.matcher(line);
            if (row.find()) {
                rows.put(row.group(1), row.group(2).trim());
            }
        }
        return rows;
    }

    @Test
    void everyFileIsListedWithItsOrigin() throws Exception {
        Set<String> files;
        try (Stream<Path> walk = Files.walk(TestSupport.core())) {
            files = walk.filter(Files::isRegularFile).map(p -> TestSupport.core().relativize(p).toString())
                    .filter(name -> !name.equals("PROVENANCE.md")).collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(files, new TreeSet<>(provenance().keySet()));
        assertEquals(Set.of("copy", "first sample", "make_core_keras.py"), new TreeSet<>(provenance().values()));
    }

    @TestFactory
    Stream<DynamicNode> copiesAndSamplesMatchTheCorpus() {
        return TestSupport.dynamic("the provenance table", () -> {
            return provenance().entrySet().stream().filter(e -> !e.getValue().equals("make_core_keras.py"))
                    .map(e -> DynamicTest.dynamicTest(e.getKey() + " (" + e.getValue() + ")", () -> {
                        Path ours = TestSupport.core().resolve(e.getKey());
                        Path theirs = TestSupport.corpus().resolve(e.getKey());
                        if (e.getValue().equals("copy")) {
                            assertEquals(TestSupport.sha256(theirs), TestSupport.sha256(ours));
                        } else {
                            Npy sample = Npy.read(ours);
                            Npy whole = Npy.read(theirs);
                            assertEquals(1, sample.shape()[0]);
                            assertArrayEquals(Arrays.copyOfRange(whole.shape(), 1, whole.shape().length),
                                    Arrays.copyOfRange(sample.shape(), 1, sample.shape().length));
                            assertArrayEquals(Arrays.copyOf(whole.values(), sample.values().length), sample.values());
                        }
                    }));
        });
    }
}

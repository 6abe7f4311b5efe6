package io.rechannel.keras;

import io.rechannel.TestSupport;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

/**
 * Fuzzing of the {@code .keras} reader on the real Keras 3 archive {@code conv1d.keras}: byte-level damage
 * (mostly outside the weights' bytes: headers, directory, JSON), header fields set to other values, and
 * archives rebuilt with valid checksums around a damaged entry, another compression or a duplicated
 * entry, each run through inspect, extend and verify in a separate JVM (see {@link FuzzHarness}).
 */
class KerasArchiveFuzzTest {

    private static Path fixture() {
        return TestSupport.fixture("keras/conv1d.keras");
    }

    @Property(shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FuzzBudget.class)
    void damagedKerasArchive(@ForAll("damaged") List<List<Mutations.Mutation>> batch) throws Exception {
        new FuzzHarness("model.keras", Files.readAllBytes(fixture())).check(batch);
    }

    @Provide
    Arbitrary<List<List<Mutations.Mutation>>> damaged() throws IOException {
        byte[] base = Files.readAllBytes(fixture());
        List<ZipArchiveEntry> entries;
        try (ZipFile zip = ZipFile.builder().setPath(fixture()).get()) {
            entries = Collections.list(zip.getEntries());
        }
        ZipArchiveEntry weights = entries.stream().filter(e -> e.getName().equals(KerasArchive.WEIGHTS)).findFirst()
                .orElseThrow();
        int[] hot = Mutations.outside(base.length, List.of(new long[] {weights.getDataOffset(), weights.getCompressedSize()}));
        return ZipMutations.archiveDamage(base.length, hot, entries.size()).list().ofSize(FuzzBudget.BATCH);
    }
}

package io.rechannel.keras;

import io.rechannel.hdf5.DatasetInfo;
import io.rechannel.hdf5.Hdf5File;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AddLifecycleHook;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzing of the Keras HDF5 reader: byte flips, truncations, insertions and boundary values written
 * into the bundled example {@code tiny_vgg.h5}, mostly into its metadata (everything but the datasets'
 * values), each run through inspect, extend and verify in a separate JVM (see {@link FuzzHarness}).
 */
class KerasH5FuzzTest {

    private static final Path EXAMPLE = Path.of("examples/tiny_vgg.h5");

    @Property(shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE)
    @AddLifecycleHook(FuzzBudget.class)
    void damagedLegacyH5(@ForAll("damaged") List<List<Mutations.Mutation>> batch) throws Exception {
        new FuzzHarness("model.h5", Files.readAllBytes(EXAMPLE)).check(batch);
    }

    @Provide
    Arbitrary<List<List<Mutations.Mutation>>> damaged() throws IOException {
        int length = (int) Files.size(EXAMPLE);
        return Mutations.sequences(length, metadataOffsets(EXAMPLE, length)).list().ofSize(FuzzBudget.BATCH);
    }

    /** Offsets outside the stored values of the file's contiguous datasets. */
    static int[] metadataOffsets(Path file, int length) {
        List<long[]> values = new ArrayList<>();
        try (Hdf5File h5 = Hdf5File.open(file, false)) {
            for (String path : h5.datasets("/")) {
                DatasetInfo info = h5.dataset(path);
                if (info.fileOffset() >= 0) {
                    values.add(new long[] {info.fileOffset(), info.storageBytes()});
                }
            }
        }
        return Mutations.outside(length, values);
    }
}

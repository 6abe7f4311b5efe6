package io.rechannel.keras;

import io.rechannel.TestSupport;
import io.rechannel.hdf5.Hdf5File;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.time.Duration;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.keras.Refusals.assertHolds;
import static io.rechannel.keras.Refusals.assertRefused;
import static io.rechannel.keras.Refusals.craft;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crafted Keras HDF5 files (issue 7: S2, C4, C5, malformed kernels): rechannel reads only the model's own
 * file, follows each object once, never reads what a dataset only declares, and names the dataset at fault.
 */
class KerasH5HardeningTest {

    private static TestSupport.Run extend(Path model, Path out) {
        return cli("extend", model.toString(), "--from", "RGB", "--to", "RGBY", "-o", out.toString(), "--verify");
    }

    /** An external link in place of the kernel: another file's values must never reach the output. */
    @Test
    void externalLinkIsRefusedByName(@TempDir Path dir) throws Exception {
        Path model = craft(dir, "linked.h5",
                "g = h5py.File('other.h5', 'w'); g['k'] = np.ones((3, 3, 3, 8), 'f4'); g.close()",
                "del f[K]; f[K] = h5py.ExternalLink('other.h5', 'k')");
        for (String command : new String[] {"inspect", "extend"}) {
            TestSupport.Run run = command.equals("inspect") ? cli("inspect", model.toString())
                    : extend(model, dir.resolve("o.h5"));
            assertRefused(run, 5, "linked.h5: /model_weights/block1_conv1/block1_conv1/kernel is an external link to k in"
                    + " other.h5; rechannel reads only the model's own file");
        }
        assertHolds(dir, "linked.h5", "other.h5");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "external storage|open('raw.bin', 'wb').write(bytes(32)); del f[B]; f.create_dataset(B, shape=(8,), dtype='f4', external=[('raw.bin', 0, 32)])|keeps its values in external files",
        "virtual dataset|g = h5py.File('other.h5', 'w'); g['b'] = np.ones(8, 'f4'); g.close(); lay = h5py.VirtualLayout(shape=(8,), dtype='f4'); lay[:] = h5py.VirtualSource('other.h5', 'b', shape=(8,)); del f[B]; f.create_virtual_dataset(B, lay)|is a virtual dataset"})
    void storageOutsideTheFileIsRefusedByName(String kind, String python, String reason, @TempDir Path dir) throws Exception {
        Path model = craft(dir, "m.h5", python);
        assertRefused(extend(model, dir.resolve("o.h5")), 5,
                "m.h5: dataset /model_weights/block1_conv1/block1_conv1/bias " + reason);
        assertRefused(cli("inspect", model.toString()), 5, "m.h5: dataset /model_weights/block1_conv1/block1_conv1/bias");
    }

    /** A soft link that stays inside the file is an ordinary way to store a dataset: followed. */
    @Test
    void softLinkInsideTheFileIsFollowed(@TempDir Path dir) throws Exception {
        Path model = craft(dir, "soft.h5", "f['model_weights/stored_kernel'] = f[K][()]; del f[K]",
                "f[K] = h5py.SoftLink('/model_weights/stored_kernel')");
        Path out = dir.resolve("o.h5");
        TestSupport.Run run = extend(model, out);
        assertEquals(0, run.exitCode(), run.out() + run.err());
        try (Hdf5File h5 = Hdf5File.open(out, false)) {
            assertArrayEquals(new long[] {3, 3, 4, 8}, h5.dataset("/model_weights/block1_conv1/block1_conv1/kernel").shape());
        }
    }

    @Test
    void danglingSoftLinkIsDamage(@TempDir Path dir) throws Exception {
        Path model = craft(dir, "dangling.h5", "del f[K]; f[K] = h5py.SoftLink('/nowhere')");
        assertRefused(extend(model, dir.resolve("o.h5")), 4,
                "dangling.h5: /model_weights/block1_conv1/block1_conv1/kernel is a soft link to /nowhere, which does not exist");
        assertHolds(dir, "dangling.h5");
    }

    @Test
    void softLinkLoopIsDamage(@TempDir Path dir) throws Exception {
        Path model = craft(dir, "loop.h5", "f[K + '_loop'] = h5py.SoftLink('/' + K + '_loop')");
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> assertRefused(cli("inspect", model.toString()), 4,
                "loop.h5: /model_weights/block1_conv1/block1_conv1/kernel_loop is a soft link", "does not resolve"));
    }

    /** A group linked inside itself (hard or soft): every command ends, each object visited once. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "hard link cycle|f['model_weights/block1_conv1/block1_conv1/back'] = f['model_weights']",
        "soft link to an ancestor|f['model_weights/block1_conv1/block1_conv1/up'] = h5py.SoftLink('/model_weights/block1_conv1')"})
    void cyclesOfLinksEnd(String kind, String python, @TempDir Path dir) throws Exception {
        Path model = craft(dir, "cycle.h5", python);
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            TestSupport.Run inspect = cli("inspect", model.toString());
            assertEquals(0, inspect.exitCode(), inspect.err());
            TestSupport.Run run = extend(model, dir.resolve("o.h5"));
            assertEquals(0, run.exitCode(), run.out() + run.err());
            assertTrue(run.out().contains("37 other tensors bit-identical"), run.out());
        });
    }

    /** A bias declared as 2^40 floats with nothing stored: compared by its fill value, never read. */
    @Test
    void unallocatedDatasetIsComparedByItsFillValue(@TempDir Path dir) throws Exception {
        Path model = craft(dir, "sparse.h5", "del f[B]; f.create_dataset(B, shape=(2**40,), dtype='f4', chunks=(1024,))");
        Path out = dir.resolve("o.h5");
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            TestSupport.Run run = cli("extend", model.toString(), "--from", "RGB", "--to", "RGBY", "-o", out.toString(), "--verify");
            assertEquals(0, run.exitCode(), run.out() + run.err());
            assertTrue(run.out().contains("37 other tensors bit-identical"), run.out());
        });
        // one chunk written: no longer fill values only, and far too sparse to read whole
        Path partly = craft(dir, "partly.h5", "del f[B]; d = f.create_dataset(B, shape=(2**40,), dtype='f4', chunks=(1024,));"
                + " d[:4] = 1");
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> assertRefused(
                cli("extend", partly.toString(), "--from", "RGB", "--to", "RGBY", "-o", dir.resolve("p.h5").toString(), "--verify"), 5,
                "partly.h5: dataset /model_weights/block1_conv1/block1_conv1/bias [1099511627776] declares 4398046511104"
                        + " bytes but stores", "rechannel does not read such sparse datasets"));
    }

    /**
     * The checks read the file's own structures: they must hold for HDF5's newest format (version 2 object
     * headers) and behind a user block as for Keras's usual files. Attributes in dense storage (more than 8
     * on one object, newest format only) cannot be checked and are refused.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "newest format|libver='latest'|0|0",
        "newest format behind a user block|libver='latest', userblock_size=4096|3|0",
        "dense attribute storage|libver='latest'|6|5"})
    void fileFormatsTheChecksRead(String kind, String options, int extraAttributes, int code, @TempDir Path dir)
            throws Exception {
        Path model = dir.resolve("rewritten.h5");
        TestSupport.python(String.join("\n",
                "import h5py, sys",
                "src = h5py.File(sys.argv[1], 'r')",
                "dst = h5py.File(sys.argv[2], 'w', " + options + ")",
                "for k, v in src.attrs.items(): dst.attrs[k] = v",
                "for k in src: src.copy(src[k], dst, name=k)",
                "for i in range(" + extraAttributes + "): dst.attrs['extra%d' % i] = 'y' * (100 * i + 1)",
                "dst.close()"), Refusals.EXAMPLE.toString(), model.toString());
        TestSupport.Run run = extend(model, dir.resolve("o.h5"));
        if (code == 0) {
            assertEquals(0, run.exitCode(), run.out() + run.err());
        } else {
            assertRefused(run, code, "rewritten.h5: attribute /@model_config: a variable-length string kept outside its"
                    + " object header (dense attribute storage)");
        }
    }

    @ParameterizedTest(name = "kernel of shape {0}")
    @CsvSource(delimiter = '|', value = {
        "(8,)|[8]; it needs at least 3 dimensions",
        "()|[]; it needs at least 3 dimensions",
        "(3, 3, 0, 8)|[3, 3, 0, 8], with an empty axis"})
    void malformedKernelIsNamed(String shape, String reason, @TempDir Path dir) throws Exception {
        Path model = craft(dir, "bad.h5", "del f[K]; f.create_dataset(K, shape=" + shape + ", dtype='f4')");
        assertRefused(extend(model, dir.resolve("o.h5")), 4, "bad.h5: layer 'block1_conv1' (Conv2D) kernel " + reason);
        assertHolds(dir, "bad.h5");
    }

    /** In a weights-only file the kernel alone says what the layer is: a rank-1 one is damage. */
    @Test
    void malformedKernelOfAWeightsOnlyFileIsNamed(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("weights.h5");
        TestSupport.python(String.join("\n",
                "import h5py, sys, numpy as np",
                "f = h5py.File(sys.argv[1], 'w')",
                "f.attrs['keras_version'] = b'2.4.0'",
                "f.attrs['layer_names'] = [b'conv']",
                "g = f.create_group('conv')",
                "g.attrs['weight_names'] = [b'conv/kernel:0']",
                "g['conv/kernel:0'] = np.zeros(8, 'f4')"), model.toString());
        assertRefused(extend(model, dir.resolve("o.h5")), 4, "weights.h5: dataset /conv/conv/kernel:0 (the kernel of layer"
                + " 'conv') has the shape [8]; a kernel has 2 to 5 non-empty dimensions");
    }

    @Test
    void dimensionsWhoseProductOverflowsAreDamage(@TempDir Path dir) throws Exception {
        Path model = craft(dir, "huge.h5", "del f[K]; f.create_dataset(K, shape=(2**20,) * 4, dtype='f4', chunks=(1, 1, 1, 8))");
        String reason = "huge.h5: dataset /model_weights/block1_conv1/block1_conv1/kernel declares the shape"
                + " [1048576, 1048576, 1048576, 1048576], whose size overflows";
        assertRefused(extend(model, dir.resolve("o.h5")), 4, reason);
        assertRefused(cli("inspect", model.toString()), 4, reason);
    }
}

package io.rechannel.keras;

import io.rechannel.CliChecks;
import io.rechannel.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.rechannel.TestSupport.cli;
import static io.rechannel.TestSupport.fixture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Numbers in Keras files: only finite values are adapted, only values the tensor's type holds are
 * written (integer kernels take only exact maps, with or without --verify), and NaN never verifies.
 */
class KerasNumbersTest {

    private static final String KERNEL = "/model_weights/block1_conv1/block1_conv1/kernel";

    /**
     * A copy of tiny_vgg.h5 whose first kernel is rewritten with h5py: argv = source, target, dtype,
     * fill (small: integers in [-40, 40); positive: in [0, 80); large: 100; nan/inf: the float kernel
     * with one such value), chunked (gzip) or not.
     */
    private static final String REWRITE = String.join("\n",
            "import h5py, numpy as np, shutil, sys",
            "src, dst, dtype, fill, chunked = sys.argv[1:6]",
            "shutil.copy(src, dst)",
            "with h5py.File(dst, 'r+') as f:",
            "    p = '" + KERNEL + "'",
            "    old = f[p][()]",
            "    rng = np.random.default_rng(0)",
            "    v = {'small': lambda: rng.integers(-40, 40, old.shape), 'positive': lambda: rng.integers(0, 80, old.shape),",
            "         'large': lambda: np.full(old.shape, 100), 'same': lambda: old}.get(fill, lambda: old.copy())()",
            "    if fill in ('nan', 'inf'):",
            "        v[1, 1, 0, 3] = float(fill)",
            "    del f[p]",
            "    opts = {'chunks': True, 'compression': 'gzip'} if chunked == 'chunked' else {}",
            "    f.create_dataset(p, data=v.astype(dtype), **opts)");

    private static Path rewritten(Path dir, String dtype, String fill, boolean chunked) throws Exception {
        Path model = dir.resolve("tiny_vgg_" + dtype + "_" + fill + ".h5");
        TestSupport.python(REWRITE, fixture("keras/tiny_vgg.h5").toString(), model.toString(), dtype, fill,
                chunked ? "chunked" : "contiguous");
        return model;
    }

    private static void assertRefused(TestSupport.Run run, int code, Path dir, String... expected) throws Exception {
        CliChecks.assertRefused(run, code, dir.resolve("out.h5"), expected);
    }

    private static TestSupport.Run extend(Path model, Path dir, String... init) {
        String[] args = new String[8 + 2 * init.length];
        String[] head = {"extend", model.toString(), "--from", "RGB", "--to", "RGBY", "-o", dir.resolve("out.h5").toString()};
        System.arraycopy(head, 0, args, 0, head.length);
        for (int i = 0; i < init.length; i++) {
            args[head.length + 2 * i] = "--init";
            args[head.length + 2 * i + 1] = init[i];
        }
        return cli(args);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Y=1e400*R", "Y=1e300*R*1e300", "Y=-1e999*G"})
    void infiniteCoefficientsAreUsageErrors(String init, @TempDir Path dir) throws Exception {
        assertRefused(extend(fixture("keras/tiny_vgg.h5"), dir, init), 2, dir, "--init " + init, "finite");
    }

    @ParameterizedTest
    @CsvSource({"float32, same, contiguous, Y=1e300*R", "float32, large, contiguous, Y=1e37*R+1e37*G+1e37*B",
        "float16, same, chunked, Y=1e6*R", "float64, large, contiguous, Y=1e307*R"})
    void aMixBeyondTheKernelsTypeIsRefusedNamingIt(String dtype, String fill, String storage, String init,
                                                   @TempDir Path dir) throws Exception {
        Path model = rewritten(dir, dtype, fill, storage.equals("chunked"));
        // tiny_vgg's kernel has values above 0.1 in every channel, 'large' holds 100: each rule overflows the type
        assertRefused(extend(model, dir, init), 7, dir, model + ": '" + KERNEL + "' (" + dtype + ") would hold");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nan", "inf"})
    void aKernelHoldingNaNOrInfinityIsRefusedAsDamaged(String fill, @TempDir Path dir) throws Exception {
        Path model = rewritten(dir, "float32", fill, false);
        assertRefused(extend(model, dir, "Y=B"), 4, dir, model + ": '" + KERNEL + "' holds " + (fill.equals("nan") ? "NaN" : "Infinity"));
    }

    @ParameterizedTest
    @CsvSource({"int8, small, Y=mean, 'int8) would hold'", "int8, small, Y=0.5*R+0.5*G, 'int8) would hold'",
        "int8, large, Y=sum, 'outside the range of int8'", "uint8, positive, Y=R-G, 'outside the range of uint8'",
        "int16, small, Y=1000*R, 'outside the range of int16'", "int32, small, timm, 'int32) would hold'"})
    void integerKernelsRefuseMapsThatCannotBeExactWithoutVerify(String dtype, String fill, String init, String reason,
                                                               @TempDir Path dir) throws Exception {
        Path model = rewritten(dir, dtype, fill, false);
        assertRefused(extend(model, dir, init), 7, dir, model + ": '" + KERNEL + "' (" + dtype, reason);
    }

    /** Copies, zeros, reorders and integer sums in range are exact; h5py reads the expected integers back. */
    @ParameterizedTest
    @CsvSource({"int8, Y=B, 'n[..., 3, :] == k[..., 2, :]'", "int8, Y=0, 'n[..., 3, :] == 0'",
        "int8, Y=sum, 'n[..., 3, :] == k.sum(axis=2)'", "uint8, Y=R+G, 'n[..., 3, :] == k[..., 0, :] + k[..., 1, :]'",
        "int32, Y=1000*R-G, 'n[..., 3, :] == 1000 * k[..., 0, :] - k[..., 1, :]'", "int16, Y=2*B, 'n[..., 3, :] == 2 * k[..., 2, :]'"})
    void integerKernelsTakeExactMaps(String dtype, String init, String check, @TempDir Path dir) throws Exception {
        Path model = rewritten(dir, dtype, dtype.startsWith("u") ? "positive" : "small", dtype.equals("int8"));
        String result = extendedThenRead(model, dir, List.of("--to", "RGBY", "--init", init),
                "k = h5py.File(sys.argv[1])['" + KERNEL + "'][()].astype(np.int64)",
                "raw = h5py.File(sys.argv[2])['" + KERNEL + "'][()]",
                "n = raw.astype(np.int64)",
                "print(raw.dtype, raw.shape, bool((n[..., :3, :] == k).all()), bool((" + check + ").all()))");
        assertEquals(dtype + " (3, 3, 4, 8) True True", result);
    }

    /**
     * {@code --init timm} on a Keras kernel is mixed like any map: each new channel the exact product with timm's
     * coefficient (3/N), rounded once to float32 (not timm's float32 arithmetic, which rounds the coefficient too).
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 5})
    void timmsCoefficientsAreMixedExactlyAndRoundedOnce(int channels, @TempDir Path dir) throws Exception {
        String result = extendedThenRead(fixture("keras/tiny_vgg.h5"), dir,
                List.of("--to", String.valueOf(channels), "--init", "timm"),
                "k = h5py.File(sys.argv[1])['" + KERNEL + "'][()].astype(np.float64)",
                "n = h5py.File(sys.argv[2])['" + KERNEL + "'][()]",
                "c = " + channels,
                "want = [(k.sum(axis=2) if c == 1 else k[..., j % 3, :] * (3 / c)).astype(np.float32) for j in range(c)]",
                "print(n.dtype, n.shape, all((n[..., j, :] == want[j]).all() for j in range(c)))");
        assertEquals("float32 (3, 3, " + channels + ", 8) True", result);
    }

    @Test
    void reorderingIntegerChannelsIsExact(@TempDir Path dir) throws Exception {
        Path model = rewritten(dir, "uint8", "positive", false);
        String result = extendedThenRead(model, dir, List.of("--to", "BGR"),
                "k = h5py.File(sys.argv[1])['" + KERNEL + "'][()]",
                "n = h5py.File(sys.argv[2])['" + KERNEL + "'][()]",
                "print(n.dtype, bool((n == k[..., ::-1, :]).all()))");
        assertEquals("uint8 True", result);
    }

    /**
     * Extends {@code model} from RGB with {@code options} into {@code dir}/out.h5, verified; returns what the Python
     * {@code lines} print (h5py, numpy and sys imported; argv[1] the model, argv[2] the output).
     */
    private static String extendedThenRead(Path model, Path dir, List<String> options, String... lines) throws Exception {
        Path out = dir.resolve("out.h5");
        List<String> args = new ArrayList<>(List.of("extend", model.toString(), "--from", "RGB", "-o", out.toString(),
                "--verify"));
        args.addAll(options);
        TestSupport.Run run = cli(args.toArray(String[]::new));
        assertEquals(0, run.exitCode(), run.out() + run.err());
        return TestSupport.python("import h5py, numpy as np, sys\n" + String.join("\n", lines), model.toString(),
                out.toString()).trim();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Y=mean:Infinity,std:1", "Y=mean:NaN,std:NaN", "Y=mean:0.1,std:0", "Y=mean:0.1,std:-0.2",
        "Y=mean:0.1,var:NaN"})
    void nonFiniteOrNonPositiveStatisticsAreUsageErrors(String stats, @TempDir Path dir) throws Exception {
        TestSupport.Run run = cli("extend", fixture("keras/tiny_effnet.h5").toString(), "--to", "RGBY", "--stats", stats,
                "-o", dir.resolve("out.h5").toString());
        assertRefused(run, 2, dir, "--stats " + stats);
    }

    /** An adapted kernel tampered with NaN or infinity: verify fails, with and without the map given. */
    @ParameterizedTest
    @ValueSource(strings = {"nan", "inf", "-inf"})
    void nanOrInfinityNeverVerifies(String value, @TempDir Path dir) throws Exception {
        Path original = fixture("keras/tiny_vgg.h5");
        Path out = tampered(original, dir, KERNEL, "[0, 0, 3, 0]", value);
        CliChecks.assertNeverVerifies(original, out, "block1_conv1 kernel", "layer 'block1_conv1'");
    }

    /** A per-channel constant of a new channel tampered with NaN: verify fails and says which. */
    @Test
    void aNaNConstantNeverVerifies(@TempDir Path dir) throws Exception {
        Path original = fixture("keras/tiny_effnet.h5");
        Path out = tampered(original, dir, "/model_weights/normalization/normalization/mean", "[3]", "nan");
        TestSupport.Run run = cli("verify", original.toString(), out.toString(), "--to", "RGBY", "--init", "Y=B");
        assertEquals(7, run.exitCode(), run.out() + run.err());
        assertTrue(run.out().startsWith("NOT verified: "), run.out());
        assertTrue(run.out().contains("problem: " + out + ": '/model_weights/normalization/normalization/mean' of layer"
                + " 'normalization' holds NaN or infinity"), run.out());
    }

    /** An exact adaptation (Y=B) whose dataset {@code dataset} then gets {@code value} at {@code index}. */
    private static Path tampered(Path original, Path dir, String dataset, String index, String value) throws Exception {
        Path out = dir.resolve("rgby.h5");
        assertEquals(0, cli("extend", original.toString(), "--from", "RGB", "--to", "RGBY", "--init", "Y=B", "-o", out.toString()).exitCode());
        TestSupport.python(String.join("\n",
                "import h5py, sys",
                "with h5py.File(sys.argv[1], 'r+') as f:",
                "    d = f[sys.argv[3]]",
                "    v = d[()]; v[tuple(" + index + ")] = float(sys.argv[2]); d[...] = v"), out.toString(), value, dataset);
        return out;
    }
}

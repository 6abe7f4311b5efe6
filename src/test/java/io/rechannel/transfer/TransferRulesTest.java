package io.rechannel.transfer;

import io.rechannel.TestSupport;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.Hyperslab;
import io.rechannel.core.RechannelException;
import io.rechannel.hdf5.DatasetBlocks;
import io.rechannel.hdf5.Hdf5File;
import io.rechannel.transfer.TransferReport.Entry;
import io.rechannel.transfer.TransferReport.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The explicit rules for differing shapes, and what is refused: one clear error, its exit code, nothing written. */
class TransferRulesTest {

    private static Path keras(String name) {
        return TestSupport.corpus().resolve("keras").resolve(name);
    }

    private static final Path PRETRAINED = Path.of("tiny_vgg_from_seed1.h5");

    /** The caffe-style pretrained model's channels taken as they are. */
    private static final ChannelLayout AS_THEY_ARE = ChannelLayout.parse("RGB");

    private static TransferRequest into(String template, Path out) {
        return TransferRequest.of(keras(PRETRAINED.toString()), keras(template), out).withChannels(AS_THEY_ARE, null);
    }

    private static Entry entry(TransferReport report, String name) {
        return report.tensors().stream().filter(e -> e.tensor().equals(name)).findFirst().orElseThrow();
    }

    /** Every tensor whose shape differs is refilled as numpy.resize refills it, with a warning where values move. */
    @Test
    void numpyResizeRefillsEveryDifferingTensor(@TempDir Path dir) {
        Path out = dir.resolve("numpy.h5");
        TransferReport report = Transfer.run(into("tiny_vgg_rgby_head10_template.h5", out).withNumpyResize());
        Tensors pretrained = Tensors.of(keras(PRETRAINED.toString()));
        Tensors result = Tensors.of(out);
        for (String name : List.of("block1_conv1/kernel", "predictions/kernel", "predictions/bias")) {
            long[] shape = result.shapes().get(name);
            assertArrayEquals(ShapeRules.numpyResize(pretrained.get(name), shape), result.get(name), 0.0, name);
            assertEquals(Status.RESIZED, entry(report, name).status());
        }
        // (3,3,3,8) -> (3,3,4,8) and (64,28) -> (64,10) move values; (28) -> (10) keeps the first ten in place
        assertEquals(2, report.warnings().size(), report.warnings().toString());
        assertTrue(report.warnings().get(0).startsWith("block1_conv1/kernel: numpy.resize scrambles it"), report.warnings().get(0));
        assertTrue(report.warnings().get(0).contains("only 24 of its 288 values keep their place"), report.warnings().get(0));
        assertTrue(report.warnings().get(1).startsWith("predictions/kernel"), report.warnings().get(1));
        assertArrayEquals(pretrained.get("fc1/kernel"), result.get("fc1/kernel"), 0.0);
    }

    /** --head overlap: the head's shared block comes from the pretrained model, the rest stays the target's. */
    @Test
    void overlapCopiesTheSharedBlockOfTheHead(@TempDir Path dir) {
        Path out = dir.resolve("overlap.keras");
        Path template = keras("tiny_vgg_rgby_head10_template.keras");
        TransferReport report = Transfer.run(TransferRequest.of(keras(PRETRAINED.toString()), template, out)
                .withChannels(AS_THEY_ARE, null).withHead(TransferRequest.Head.OVERLAP));
        double[] pretrained = Tensors.of(keras(PRETRAINED.toString())).get("predictions/kernel"); // (64, 28)
        double[] kernel = Tensors.of(out).get("predictions/kernel"); // (64, 10)
        for (int row = 0; row < 64; row++) {
            assertArrayEquals(Arrays.copyOfRange(pretrained, row * 28, row * 28 + 10),
                    Arrays.copyOfRange(kernel, row * 10, row * 10 + 10), 0.0, "row " + row);
        }
        assertEquals(Status.RESIZED, entry(report, "predictions/kernel").status());
        assertTrue(entry(report, "predictions/kernel").detail().startsWith("overlap:"), entry(report, "predictions/kernel").detail());
    }

    /** A wrong pretrained model leaves most of the target as it was: refused, with the report, nothing written. */
    @Test
    void aTargetMostlyLeftAsItWasIsRefused(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("out.h5");
        TransferRequest request = TransferRequest.of(TestSupport.fixture("keras/conv1d.h5"), keras("tiny_vgg_rgby_template.h5"), out);
        TransferException e = assertThrows(TransferException.class, () -> Transfer.run(request));
        assertEquals(7, e.kind().exitCode());
        assertTrue(e.getMessage().contains("tiny_vgg_rgby_template.h5: ") && e.getMessage().contains("--max-kept")
                && e.getMessage().endsWith("nothing written"), e.getMessage());
        assertTrue(e.report().keptShare() > 0.5, e.report().table());
        assertEmpty(dir);
    }

    @Test
    void aRequiredTensorLeftAsItWasIsRefused(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("out.h5");
        TransferRequest request = into("tiny_vgg_rgby_head10_template.h5", out).withRequired(List.of("predictions/kernel"));
        TransferException e = assertThrows(TransferException.class, () -> Transfer.run(request));
        assertEquals(7, e.kind().exitCode());
        assertTrue(e.getMessage().contains("tensor 'predictions/kernel' (required) would keep the target's own values"),
                e.getMessage());
        assertEmpty(dir);
        RechannelException unknown = assertThrows(RechannelException.class, () -> Transfer.run(
                into("tiny_vgg_rgby_template.h5", out).withRequired(List.of("no/such"))));
        assertEquals(2, unknown.kind().exitCode());
        assertEmpty(dir);
    }

    @Test
    void numpyResizeAndAChannelRuleAreRefusedTogether() {
        RechannelException e = assertThrows(RechannelException.class, () -> TransferRequest.of(Path.of("a.h5"),
                Path.of("b.h5"), Path.of("c.h5")).withInits(List.of("copy-last"), 0).withNumpyResize());
        assertEquals(2, e.kind().exitCode());
        assertTrue(e.getMessage().startsWith("--resize numpy"), e.getMessage());
    }

    @Test
    void badFilesAreOneLineNamingTheFile(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("out.h5");
        Path missing = dir.resolve("missing.h5");
        assertRefused(3, missing + ": no such file", TransferRequest.of(missing, keras("tiny_vgg_rgby_template.h5"), out));
        Path truncated = dir.resolve("truncated.h5");
        Files.write(truncated, Arrays.copyOf(Files.readAllBytes(keras(PRETRAINED.toString())), 4000));
        assertRefused(4, truncated.toString(), TransferRequest.of(truncated, keras("tiny_vgg_rgby_template.h5"), out));
        Path weights = TestSupport.fixture("keras/tiny_vgg.weights.h5");
        assertRefused(5, weights + ": a Keras 3 weights file", TransferRequest.of(weights, keras("tiny_vgg_rgby_template.h5"), out));
        Files.delete(truncated);
        assertEmpty(dir);
    }

    @Test
    void anExistingOutputOrAnInputAsOutputIsRefused(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("out.h5");
        Files.writeString(out, "mine");
        assertRefused(3, out + ": exists (option 'overwrite' not given)", into("tiny_vgg_rgby_template.h5", out));
        assertEquals("mine", Files.readString(out));
        Path pretrained = dir.resolve("pretrained.h5");
        Files.copy(keras(PRETRAINED.toString()), pretrained);
        assertRefused(2, "a file of the pretrained model", TransferRequest.of(pretrained, keras("tiny_vgg_rgby_template.h5"),
                pretrained).overwriting());
    }

    /** A pretrained value that is not finite is refused by name (exit 4), and nothing is written. */
    @Test
    void aPretrainedNanIsRefused(@TempDir Path dir) throws IOException {
        Path pretrained = dir.resolve("nan.h5");
        Files.copy(keras(PRETRAINED.toString()), pretrained);
        try (Hdf5File h5 = Hdf5File.open(pretrained, true)) {
            DatasetBlocks.write(h5, "/model_weights/fc2/fc2/bias", Hyperslab.whole(new long[] {64}), nanAt(64, 5));
        }
        Path outputs = Files.createDirectory(dir.resolve("outputs"));
        RechannelException e = assertThrows(RechannelException.class, () -> Transfer.run(
                TransferRequest.of(pretrained, keras("tiny_vgg_rgby_template.h5"), outputs.resolve("out.h5"))
                        .withChannels(AS_THEY_ARE, null)));
        assertEquals(4, e.kind().exitCode());
        assertTrue(e.getMessage().startsWith(pretrained + ": tensor 'fc2/bias' holds NaN"), e.getMessage());
        assertEmpty(outputs);
    }

    private static double[] nanAt(int size, int index) {
        double[] values = new double[size];
        values[index] = Double.NaN;
        return values;
    }

    private static void assertRefused(int exitCode, String text, TransferRequest request) {
        RechannelException e = assertThrows(RechannelException.class, () -> Transfer.run(request));
        assertEquals(exitCode, e.kind().exitCode(), e.getMessage());
        assertTrue(e.getMessage().contains(text), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertFalse(e.getMessage().contains(".part"), e.getMessage());
    }

    private static void assertEmpty(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.toList());
        }
    }
}

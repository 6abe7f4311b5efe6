package io.rechannel.transfer;

import io.rechannel.TestSupport;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelLayout;
import io.rechannel.core.RechannelException;
import io.rechannel.format.ModelFormat;
import io.rechannel.format.ModelFormats;
import io.rechannel.transfer.TransferReport.Status;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Keras tensor store names a model's tensors alike in its legacy {@code .h5} and its {@code .keras}: every
 * core model saved both ways transfers from one into the other by name, every tensor copied, and the result holds
 * the first file's values. Real Keras 1/2 files (the corpus's {@code keras2/}) transfer into themselves unchanged,
 * or are refused where their layout cannot be told.
 */
class KerasFilesTransferTest {

    /** Core models saved by real Keras as .h5 and .keras. */
    private static final List<String> MODELS = List.of("channels_first", "conv1d", "conv3d", "flatten_dense",
            "input_concat", "nested_adam", "separable_stem", "sequential", "tiny_effnet", "tiny_vgg", "two_inputs");

    /** Keras 1 weights-only files: their kernel layout cannot be told without a config. */
    private static final Map<String, String> REFUSED = Map.of(
            "ncondo__CarND-Behavioral-Cloning__model.h5", "a Keras 1 weights-only file",
            "pplonski__keras2cpp__example__my_nn_weights.h5", "a Keras 1 weights-only file",
            "HimalRana2610__mnist-digit-classifier__mnist_weights.weights.h5", "a Keras 3 weights file");

    @TempDir
    static Path dir;

    @TestFactory
    Stream<DynamicTest> everyCoreModelFromItsH5IntoItsKeras() {
        return MODELS.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            Path h5 = TestSupport.fixture("keras/" + name + ".h5");
            Path out = dir.resolve(name + ".keras");
            TransferReport report = Transfer.run(TransferRequest.of(h5, TestSupport.fixture("keras/" + name + ".keras"), out)
                    .withMatching(TransferRequest.Matching.NAME));
            long floating = report.tensors().stream().filter(e -> !e.detail().contains("only floating-point")).count();
            assertEquals(floating, (long) report.counts().get(Status.COPIED), report.table());
            assertTrue(report.unmatched().isEmpty(), report.table());
            Tensors.of(out).assertSameAs(Tensors.of(h5));
        }));
    }

    /**
     * A 4-channel target made by {@code extend} (new channel at zero) receives the 3-channel model's weights with the
     * default channel rule: the result is what {@code extend} gives with that rule — the first layers' kernels (a
     * dense layer behind a flatten too), a Normalization's mean and variance, nested models alike.
     */
    @TestFactory
    Stream<DynamicTest> intoAnExtendedModelTheResultIsExtends() {
        List<String> models = List.of("channels_first", "conv1d", "conv3d", "flatten_dense", "nested_adam", "sequential",
                "tiny_effnet", "tiny_vgg");
        return models.stream().flatMap(name -> Stream.of(".h5", ".keras").map(suffix -> DynamicTest.dynamicTest(name + suffix, () -> {
            Path model = TestSupport.fixture("keras/" + name + suffix);
            Path target = dir.resolve("zeros-" + name + suffix);
            Path expected = dir.resolve("mean-" + name + suffix);
            // tiny_vgg is caffe-style: its channels are taken as they are, named RGB
            ChannelLayout from = name.equals("tiny_vgg") ? ChannelLayout.parse("RGB") : null;
            ModelFormat format = ModelFormats.forFile(model);
            format.extend(model, target, true, fourChannels(from, List.of("zeros")));
            format.extend(model, expected, true, fourChannels(from, List.of()));
            Path out = dir.resolve("transferred-" + name + suffix);
            TransferReport report = Transfer.run(TransferRequest.of(model, target, out).withChannels(from, null).overwriting());
            assertTrue(report.counts().get(Status.ADAPTED) >= 1, report.table());
            Tensors.of(out).assertSameAs(Tensors.of(expected));
        })));
    }

    private static AdaptOptions fourChannels(ChannelLayout from, List<String> inits) {
        return new AdaptOptions(from, ChannelLayout.parse("4"), inits, 0, null, Set.of(), Map.of(), false, null, null);
    }

    @TestFactory
    Stream<DynamicNode> everyRealKerasFileIntoItself() {
        return TestSupport.dynamic("keras2 corpus", () -> {
            Path corpus = TestSupport.corpus().resolve("keras2");
            List<Path> files;
            try (Stream<Path> list = Files.list(corpus)) {
                files = list.filter(f -> f.toString().endsWith(".h5") || f.toString().endsWith(".hdf5")).sorted().toList();
            }
            return files.stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
                Path out = dir.resolve("self-" + file.getFileName());
                TransferRequest request = TransferRequest.of(file, file, out);
                String refusal = REFUSED.get(file.getFileName().toString());
                if (refusal != null) {
                    RechannelException e = assertThrows(RechannelException.class, () -> Transfer.run(request));
                    assertEquals(5, e.kind().exitCode(), e.getMessage());
                    assertTrue(e.getMessage().startsWith(file + ": " + refusal), e.getMessage());
                    return;
                }
                TransferReport report = Transfer.run(request);
                assertEquals(report.tensors().size(), (int) report.counts().get(Status.COPIED), report.table());
                Tensors.of(out).assertSameAs(Tensors.of(file));
            }));
        });
    }
}

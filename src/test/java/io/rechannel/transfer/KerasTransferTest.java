package io.rechannel.transfer;

import io.rechannel.TestSupport;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ChannelLayout;
import io.rechannel.format.ModelFormats;
import io.rechannel.transfer.TransferReport.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The accepted answer's procedure for a 4-channel VGG (a fresh 4-channel template, every weight copied, the first
 * kernel given a copy of its last input channel) is {@code transfer --from-channels RGB --init copy-last}: the
 * channels taken as they are, in caffe order, nothing reordered (without {@code --from-channels} the caffe-style
 * model stops the transfer). The fixture {@code tiny_vgg_rgby_seed_procedure} is what that procedure made with
 * real Keras.
 */
class KerasTransferTest {

    private static final String FIRST = "block1_conv1/kernel";

    private static Path corpus(String name) {
        return TestSupport.corpus().resolve("keras").resolve(name);
    }

    private static TransferRequest copyLast(Path into, Path out) {
        return TransferRequest.of(corpus("tiny_vgg_from_seed1.h5"), into, out).withInits(List.of("copy-last"), 0)
                .withChannels(ChannelLayout.parse("RGB"), null);
    }

    @ParameterizedTest(name = "into {0}")
    @ValueSource(strings = {"h5", "keras"})
    void copyLastEqualsTheAcceptedAnswersProcedure(String kind, @TempDir Path dir) {
        Path out = dir.resolve("rgby." + kind);
        TransferReport report = Transfer.run(copyLast(corpus("tiny_vgg_rgby_template." + kind), out));

        Tensors.of(out).assertSameAs(Tensors.of(corpus("tiny_vgg_rgby_seed_procedure." + kind)));
        assertEquals(out.toString(), report.output());
        Map<Status, Integer> counts = report.counts();
        assertEquals(1, counts.get(Status.ADAPTED), report.table());
        assertEquals(report.tensors().size() - 1, counts.get(Status.COPIED), report.table());
        TransferReport.Entry first = report.tensors().get(0);
        assertEquals(FIRST, first.tensor());
        assertEquals(List.of(3L, 3L, 3L, 8L), first.sourceShape());
        assertEquals(List.of(3L, 3L, 4L, 8L), first.shape());
        assertEquals(0.0, report.keptShare());
    }

    @Test
    void copyLastEqualsExtendOnThePretrainedFile(@TempDir Path dir) {
        Path pretrained = corpus("tiny_vgg_from_seed1.h5");
        Path transferred = dir.resolve("transferred.h5");
        Transfer.run(copyLast(corpus("tiny_vgg_rgby_template.h5"), transferred));
        Path extended = dir.resolve("extended.h5");
        AdaptOptions options = new AdaptOptions(ChannelLayout.parse("RGB"), ChannelLayout.parse("4"), List.of("copy-last"), 0, null, Set.of(),
                Map.of(), false, null, null);
        ModelFormats.forFile(pretrained).extend(pretrained, extended, false, options);

        Tensors.of(transferred).assertSameAs(Tensors.of(extended));
    }

    @ParameterizedTest(name = "into {0}")
    @ValueSource(strings = {"h5", "keras"})
    void aTenClassHeadIsKeptAndReported(String kind, @TempDir Path dir) {
        Path template = corpus("tiny_vgg_rgby_head10_template." + kind);
        Path out = dir.resolve("head10." + kind);
        TransferReport report = Transfer.run(copyLast(template, out));

        // everything but the head as the procedure has it, the head as the template has it
        Tensors result = Tensors.of(out);
        Tensors procedure = Tensors.of(corpus("tiny_vgg_rgby_seed_procedure." + kind));
        Tensors own = Tensors.of(template);
        for (String name : result.shapes().keySet()) {
            boolean head = name.startsWith("predictions/");
            assertTrue(java.util.Arrays.equals(head ? own.get(name) : procedure.get(name), result.get(name)), name);
        }
        for (String name : List.of("predictions/kernel", "predictions/bias")) {
            TransferReport.Entry entry = report.tensors().stream().filter(e -> e.tensor().equals(name)).findFirst().orElseThrow();
            assertEquals(Status.KEPT, entry.status(), report.table());
            assertTrue(entry.detail().startsWith("head: shapes differ"), entry.detail());
            assertTrue(entry.detail().contains("28 pretrained, 10 target"), entry.detail());
        }
        assertEquals(2, report.counts().get(Status.KEPT));
        assertTrue(report.table().contains("kept"), report.table());
    }
}

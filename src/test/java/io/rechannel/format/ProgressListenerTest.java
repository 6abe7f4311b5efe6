package io.rechannel.format;

import io.rechannel.Rechannel;
import io.rechannel.TestSupport;
import io.rechannel.core.AdaptOptions;
import io.rechannel.core.ProgressListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Long steps are reported to the listener the options name, from whichever thread does them; never drawn. */
class ProgressListenerTest {

    /** Every step heard: its name, its total, the units reported and whether it was closed. */
    private static final class Recorder implements ProgressListener {
        record Step(String task, long total, AtomicLong done, boolean[] closed) {
        }

        final List<Step> steps = new CopyOnWriteArrayList<>();

        @Override
        public Task started(String task, long total) {
            Step step = new Step(task, total, new AtomicLong(), new boolean[1]);
            steps.add(step);
            return new Task() {
                @Override
                public void advance(long units) {
                    step.done().addAndGet(units);
                }

                @Override
                public void close() {
                    step.closed()[0] = true;
                }
            };
        }
    }

    @Test
    void theCopyOfAKerasFileIsReportedFromItsOwnThread(@TempDir Path dir) throws Exception {
        Path input = TestSupport.fixture("keras/tiny_vgg.h5");
        Recorder recorder = new Recorder();
        ModelFormats.forFile(input).extend(input, dir.resolve("rgby.h5"), false,
                AdaptOptions.to("RGBY").from("BGR").progress(recorder), OutputCheck.NONE);
        assertEquals(1, recorder.steps.size(), recorder.steps.toString());
        Recorder.Step copy = recorder.steps.get(0);
        assertEquals("copying tiny_vgg.h5", copy.task());
        assertEquals(Files.size(input), copy.total());
        assertEquals(Files.size(input), copy.done().get());
        assertTrue(copy.closed()[0]);
    }

    @Test
    void writingAnOnnxModelIsReported(@TempDir Path dir) {
        Path input = Path.of("examples/small_cnn.onnx");
        Recorder recorder = new Recorder();
        ModelFormats.forFile(input).extend(input, dir.resolve("cnn.onnx"), false,
                AdaptOptions.to("RGBY").progress(recorder), OutputCheck.NONE);
        assertEquals(List.of("reading small_cnn.onnx", "copying small_cnn.onnx.data", "writing cnn.onnx"), recorder.steps.stream().map(Recorder.Step::task).toList());
        assertTrue(recorder.steps.stream().allMatch(step -> step.closed()[0]));
    }

    @Test
    void verifyingAnOnnxModelIsReported(@TempDir Path dir) {
        Path input = Path.of("examples/small_cnn.onnx");
        Path output = dir.resolve("cnn.onnx");
        Rechannel.extend(input, output, AdaptOptions.to("RGBY"));
        Recorder recorder = new Recorder();
        assertTrue(Rechannel.verify(input, output, AdaptOptions.defaults().progress(recorder)).passed());
        assertEquals(List.of("reading small_cnn.onnx", "reading cnn.onnx", "comparing cnn.onnx with the original",
                "running small_cnn.onnx in ONNX Runtime", "running cnn.onnx in ONNX Runtime"),
                recorder.steps.stream().map(Recorder.Step::task).toList());
        assertTrue(recorder.steps.stream().allMatch(step -> step.closed()[0]));
    }

    @Test
    void withoutAListenerNothingIsReported() {
        assertSame(Progress.NONE, Progress.of("copying", 1L << 40));
        Recorder recorder = new Recorder();
        Progress.reportingTo(recorder, () -> {
            try (Progress step = Progress.of("copying", 10)) {
                step.advance(10);
            }
            return null;
        });
        assertEquals(10, recorder.steps.get(0).done().get());
        assertSame(Progress.NONE, Progress.of("copying", 1L << 40), "the listener is left when the run ends");
    }
}

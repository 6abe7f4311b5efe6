package io.rechannel.cli;

import io.rechannel.core.ProgressListener;
import io.rechannel.format.Progress;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A step's bar appears only once the step has run longer than the delay, and then says what the step is. */
class DelayedBarTest {

    private final ByteArrayOutputStream sink = new ByteArrayOutputStream();
    private final PrintStream stream = new PrintStream(sink, true, StandardCharsets.UTF_8);

    private String shown() {
        return sink.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aStepThatEndsInTimeShowsNothing() throws Exception {
        try (ProgressListener.Task step = DelayedBar.start("comparing model.onnx with the original", 10L << 20, Duration.ofSeconds(5), stream)) {
            step.advance(10L << 20);
        }
        Thread.sleep(100);
        assertEquals("", shown());
    }

    @Test
    void aNativeCallStillRunningAfterTheDelayShowsItsNameAndTime() throws Exception {
        try (ProgressListener.Task step = DelayedBar.start("running model.onnx in ONNX Runtime", -1, Duration.ofMillis(50), stream)) {
            Thread.sleep(1500);
        }
        String shown = shown();
        assertTrue(shown.contains("running model.onnx in ONNX Runtime"), shown);
        assertTrue(shown.matches("(?s).*0:00:0[1-9].*"), "the time it has taken: " + shown);
    }

    @Test
    void aStepOfKnownSizeShowsTheMegabytesDone() {
        try (ProgressListener.Task step = DelayedBar.start("comparing model.h5 with the original", 8L << 20, Duration.ZERO, stream)) {
            step.advance(3L << 20);
            step.advance(5L << 20);
        }
        String shown = shown();
        assertTrue(shown.contains("comparing model.h5 with the original"), shown);
        assertTrue(shown.contains("8/8 MB"), shown);
    }

    @Test
    void countingAStreamAdvancesByWhatIsReadAndSkipped() throws Exception {
        long[] done = new long[1];
        ProgressListener counter = (task, total) -> new ProgressListener.Task() {
            @Override
            public void advance(long bytes) {
                done[0] += bytes;
            }

            @Override
            public void close() {
            }
        };
        Progress.reportingTo(counter, () -> {
            try (Progress step = Progress.of("reading", 100);
                 var in = step.counting(new java.io.ByteArrayInputStream(new byte[100]))) {
                in.read();
                in.read(new byte[9]);
                in.skip(40);
                in.readAllBytes();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return null;
        });
        assertEquals(100, done[0]);
    }
}

package io.rechannel.format;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/**
 * Progress of one step of a run (a copy, a comparison, a model run in ONNX Runtime), shown on stderr as a
 * bar once the step has taken {@link #DELAY}: shorter steps show nothing. Only where a person is watching
 * (stderr and stdout on a console), unless {@code -Drechannel.progress=always} asks for it anywhere (in a log);
 * {@code -Drechannel.quiet=true} turns it off. Nothing of the bar library is loaded for a step that ends in time.
 */
public interface Progress extends AutoCloseable {

    /** How long a step runs before its bar appears. */
    Duration DELAY = Duration.ofSeconds(2);

    Progress NONE = new Progress() {
        @Override
        public void advance(long bytes) {
        }

        @Override
        public void close() {
        }
    };

    /** Counts {@code bytes} more of the step done. */
    void advance(long bytes);

    @Override
    void close();

    /** A step of {@code bytes} bytes (its bar shows MB done and the speed), or {@link #NONE} when none is shown. */
    static Progress of(String task, long bytes) {
        return shown() ? DelayedBar.start(task, bytes, delay(), System.err) : NONE;
    }

    /** A step whose progress cannot be measured, such as a native call (its bar shows the time it has taken). */
    static Progress of(String task) {
        return of(task, -1);
    }

    /** {@code in}, counting every byte read or skipped as done. */
    default InputStream counting(InputStream in) {
        return this == NONE ? in : new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                advance(b < 0 ? 0 : 1);
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = super.read(buffer, offset, length);
                advance(Math.max(n, 0));
                return n;
            }

            @Override
            public long skip(long n) throws IOException {
                long skipped = super.skip(n);
                advance(skipped);
                return skipped;
            }
        };
    }

    private static boolean shown() {
        if (Boolean.getBoolean("rechannel.quiet")) {
            return false;
        }
        return System.console() != null || "always".equals(System.getProperty("rechannel.progress"));
    }

    /** {@link #DELAY}, or {@code -Drechannel.progress.delay=MS} (tests show bars at once). */
    private static Duration delay() {
        return Duration.ofMillis(Long.getLong("rechannel.progress.delay", DELAY.toMillis()));
    }
}

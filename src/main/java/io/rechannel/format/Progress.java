package io.rechannel.format;

import io.rechannel.core.ProgressListener;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.Supplier;

/**
 * Progress of one long step (a copy, a comparison, a model run in ONNX Runtime), reported to the
 * {@link ProgressListener} of the run in progress on this thread: {@link #reportingTo} sets it for the length
 * of a run (extend sets the one its options name), and work handed to another thread takes it along with
 * {@link #carried}. Without a listener nothing is reported; the library itself never draws anything.
 */
public final class Progress implements AutoCloseable {

    /** Reports nothing. */
    public static final Progress NONE = new Progress(ProgressListener.Task.NONE);

    private static final ThreadLocal<ProgressListener> LISTENER = ThreadLocal.withInitial(() -> ProgressListener.SILENT);

    private final ProgressListener.Task task;

    private Progress(ProgressListener.Task task) {
        this.task = task;
    }

    /** The step {@code task} of {@code bytes} begins ({@code -1}: unknown); {@link #NONE} when nobody listens. */
    public static Progress of(String task, long bytes) {
        ProgressListener.Task heard = LISTENER.get().started(task, bytes);
        return heard == null || heard == ProgressListener.Task.NONE ? NONE : new Progress(heard);
    }

    /** A step whose progress cannot be measured, such as a native call. */
    public static Progress of(String task) {
        return of(task, -1);
    }

    /** Runs {@code work} with its steps reported to {@code listener}. */
    public static <T> T reportingTo(ProgressListener listener, Supplier<T> work) {
        ProgressListener before = LISTENER.get();
        LISTENER.set(listener == null ? ProgressListener.SILENT : listener);
        try {
            return work.get();
        } finally {
            LISTENER.set(before);
        }
    }

    /** {@code work}, reporting to this thread's listener wherever it runs. */
    public static Runnable carried(Runnable work) {
        ProgressListener listener = LISTENER.get();
        return () -> reportingTo(listener, () -> {
            work.run();
            return null;
        });
    }

    /** {@code bytes} more are done. */
    public void advance(long bytes) {
        task.advance(bytes);
    }

    /** {@code in}, counting every byte read or skipped as done. */
    public InputStream counting(InputStream in) {
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

    @Override
    public void close() {
        task.close();
    }
}

package io.rechannel.format;

import io.rechannel.core.ProgressListener;

import java.util.function.Supplier;

/**
 * Progress of one long step (copying a large model), reported to the {@link ProgressListener} of the run
 * in progress on this thread: {@link #reportingTo} sets it for the length of a run (extend sets the one
 * its options name), and work handed to another thread takes it along with {@link #carried}. Without a
 * listener nothing is reported; the library itself never draws anything.
 */
public final class Progress implements AutoCloseable {

    /** Reports nothing. */
    public static final Progress NONE = new Progress(ProgressListener.Task.NONE);

    private static final ThreadLocal<ProgressListener> LISTENER = ThreadLocal.withInitial(() -> ProgressListener.SILENT);

    private final ProgressListener.Task task;

    private Progress(ProgressListener.Task task) {
        this.task = task;
    }

    /** The step {@code task} of {@code bytes} begins; {@link #NONE} when nobody listens. */
    public static Progress of(String task, long bytes) {
        ProgressListener.Task heard = LISTENER.get().started(task, bytes);
        return heard == null || heard == ProgressListener.Task.NONE ? NONE : new Progress(heard);
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

    @Override
    public void close() {
        task.close();
    }
}

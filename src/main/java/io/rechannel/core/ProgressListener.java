package io.rechannel.core;

/**
 * Hears of long steps (copying a large model) as they progress. The library reports, it never draws:
 * the default hears nothing, and the command line passes one that shows a bar on the console.
 */
@FunctionalInterface
public interface ProgressListener {

    /** Hears nothing. */
    ProgressListener SILENT = (task, total) -> Task.NONE;

    /**
     * A step of {@code total} units (bytes) begins, described by {@code task} ({@code copying model.h5}); the
     * returned task hears the units as they are done and is closed when the step ends, finished or not.
     */
    Task started(String task, long total);

    /** One step in progress. */
    interface Task extends AutoCloseable {

        /** Hears nothing. */
        Task NONE = new Task() {
            @Override
            public void advance(long units) {
            }

            @Override
            public void close() {
            }
        };

        /** {@code units} more are done; may be called from any thread. */
        void advance(long units);

        @Override
        void close();
    }
}

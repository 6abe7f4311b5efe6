package io.rechannel.format;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long copy, shown on stderr as a bar when a person is watching (a console) and the
 * model is large enough to take a while; otherwise nothing is shown and nothing is loaded.
 */
public interface Progress extends AutoCloseable {

    /** Models below this size are copied in well under a second: no bar. */
    long THRESHOLD = 1L << 30;

    Progress NONE = new Progress() {
        @Override
        public void advance(long bytes) {
        }

        @Override
        public void close() {
        }
    };

    void advance(long bytes);

    @Override
    void close();

    /** A bar for copying {@code bytes}, or {@link #NONE}. */
    static Progress of(String task, long bytes) {
        if (bytes < THRESHOLD || System.console() == null || Boolean.getBoolean("rechannel.quiet")) {
            return NONE;
        }
        ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(bytes >> 20).setUnit(" MB", 1)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                .showSpeed().build();
        return new Progress() {
            private long pending;

            @Override
            public synchronized void advance(long done) {
                pending += done;
                bar.stepBy(pending >> 20);
                pending &= (1 << 20) - 1;
            }

            @Override
            public void close() {
                bar.close();
            }
        };
    }
}

package io.rechannel.cli;

import io.rechannel.core.ProgressListener;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Long steps shown on stderr as a bar when a person is watching (a console) and the step is large enough
 * to take a while; otherwise nothing is shown and the bar's library is not even loaded.
 */
final class ConsoleProgress implements ProgressListener {

    /** Models below this size are copied in well under a second: no bar. */
    static final long THRESHOLD = 1L << 30;

    @Override
    public Task started(String task, long bytes) {
        if (bytes < THRESHOLD || System.console() == null || Boolean.getBoolean("rechannel.quiet")) {
            return Task.NONE;
        }
        ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(bytes >> 20).setUnit(" MB", 1)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                .showSpeed().build();
        return new Task() {
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

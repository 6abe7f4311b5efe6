package io.rechannel.cli;

import io.rechannel.core.ProgressListener;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A step on the console whose bar is made only when its step is still running after a delay, with the time
 * and bytes of the step so far: most steps end first, and then nothing is printed or loaded.
 */
final class DelayedBar implements ProgressListener.Task {

    /** One daemon thread for every step's timer, started on first use. */
    private static final class Timer {
        static final ScheduledExecutorService EXECUTOR = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "rechannel-progress");
            thread.setDaemon(true);
            return thread;
        });
    }

    private final String task;
    private final long bytes;
    private final PrintStream sink;
    private final long started = System.nanoTime();
    private long done;
    private boolean closed;
    private ProgressBar bar;
    private ScheduledFuture<?> timer;

    private DelayedBar(String task, long bytes, PrintStream sink) {
        this.task = task;
        this.bytes = bytes;
        this.sink = sink;
    }

    /** A step of {@code bytes} bytes ({@code -1}: unknown) whose bar appears on {@code sink} after {@code delay}. */
    static DelayedBar start(String task, long bytes, Duration delay, PrintStream sink) {
        DelayedBar step = new DelayedBar(task, bytes, sink);
        if (delay.isZero() || delay.isNegative()) {
            step.show();
        } else {
            step.schedule(delay);
        }
        return step;
    }

    private synchronized void schedule(Duration delay) {
        timer = Timer.EXECUTOR.schedule(this::show, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private synchronized void show() {
        if (closed || bar != null) {
            return;
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
        ProgressBarBuilder builder = new ProgressBarBuilder().setTaskName(task).setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(sink));
        if (bytes < 0) {
            // a native call reports nothing until it returns: the bar shows the time it has taken
            builder.setInitialMax(-1).continuousUpdate().startsFrom(0, elapsed);
        } else {
            builder.setInitialMax(bytes >> 20).setUnit(" MB", 1).showSpeed().startsFrom(done >> 20, elapsed);
        }
        bar = builder.build();
    }

    @Override
    public synchronized void advance(long count) {
        done += count;
        if (bar != null) {
            bar.stepTo(done >> 20);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (timer != null) {
            timer.cancel(false);
        }
        if (bar != null) {
            bar.close();
        }
    }
}

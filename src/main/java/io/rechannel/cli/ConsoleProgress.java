package io.rechannel.cli;

import io.rechannel.core.ProgressListener;

import java.time.Duration;

/**
 * Long steps shown on stderr as a bar once a step has taken {@link #DELAY}: shorter steps show nothing, and
 * nothing of the bar library is loaded for them. Only where a person is watching (a console), unless
 * {@code -Drechannel.progress=always} asks for it anywhere (in a log); {@code -Drechannel.quiet=true} turns it off.
 */
final class ConsoleProgress implements ProgressListener {

    /** How long a step runs before its bar appears. */
    static final Duration DELAY = Duration.ofSeconds(2);

    @Override
    public Task started(String task, long bytes) {
        return shown() ? DelayedBar.start(task, bytes, delay(), System.err) : Task.NONE;
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

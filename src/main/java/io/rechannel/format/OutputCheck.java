package io.rechannel.format;

import java.nio.file.Path;

/**
 * A check of a finished output before it is committed, such as a numeric verification: when it throws,
 * the output never appears under its final name.
 */
@FunctionalInterface
public interface OutputCheck {

    /** Commits without checking. */
    OutputCheck NONE = written -> { };

    /**
     * Checks the finished model at {@code written}: the output's own file name in a staging folder, with
     * every file written beside it (external data) in place.
     */
    void check(Path written);
}

package io.rechannel.format;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.FileChannel;

/** Kernel-side copies of byte ranges between files (sendfile on Linux), complete or failing. */
public final class ByteRanges {

    private ByteRanges() {
    }

    /** Steps of a copy that reports progress: large enough to keep the kernel copy efficient. */
    private static final long STEP = 64L << 20;

    /** Copies {@code count} bytes at {@code from} of {@code source} to {@code target} at {@code to}. */
    public static void copy(FileChannel source, long from, long count, FileChannel target, long to) throws IOException {
        copy(source, from, count, target, to, Progress.NONE);
    }

    /** The same, reporting the bytes copied to {@code progress}. */
    public static void copy(FileChannel source, long from, long count, FileChannel target, long to, Progress progress)
            throws IOException {
        long done = 0;
        while (done < count) {
            long step = progress == Progress.NONE ? count - done : Math.min(STEP, count - done);
            long n = source.transferTo(from + done, step, target.position(to + done));
            if (n <= 0) {
                throw new EOFException("source ends " + (count - done) + " bytes early");
            }
            done += n;
            progress.advance(n);
        }
    }
}

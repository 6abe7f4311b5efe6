package io.rechannel.format;

import java.io.IOException;
import java.nio.channels.FileChannel;

/** Kernel-side copies of byte ranges between files (sendfile on Linux), complete or failing. */
public final class ByteRanges {

    private ByteRanges() {
    }

    /** Copies {@code count} bytes at {@code from} of {@code source} to {@code target} at {@code to}. */
    public static void copy(FileChannel source, long from, long count, FileChannel target, long to) throws IOException {
        long done = 0;
        while (done < count) {
            long n = source.transferTo(from + done, count - done, target.position(to + done));
            if (n <= 0) {
                throw new IOException("source ends " + (count - done) + " bytes early");
            }
            done += n;
        }
    }
}

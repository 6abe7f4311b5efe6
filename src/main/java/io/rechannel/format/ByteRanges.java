package io.rechannel.format;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Kernel-side copies of byte ranges between files (sendfile on Linux), complete or failing, and their comparison. */
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

    /** Steps of a comparison: two buffers of this size are all it holds. */
    private static final int COMPARED = 1 << 20;

    /**
     * Whether {@code length} bytes at {@code from} of {@code a} equal those at {@code to} of {@code b}, read a
     * step at a time and reported to {@code progress}; a range that reaches past the end of its file differs.
     */
    public static boolean same(Path a, long from, Path b, long to, long length, Progress progress) throws IOException {
        try (FileChannel x = FileChannel.open(a, StandardOpenOption.READ); FileChannel y = FileChannel.open(b, StandardOpenOption.READ)) {
            ByteBuffer bx = ByteBuffer.allocate((int) Math.min(COMPARED, Math.max(0, length)));
            ByteBuffer by = ByteBuffer.allocate(bx.capacity());
            for (long done = 0; done < length; ) {
                int n = (int) Math.min(bx.capacity(), length - done);
                if (!fill(x, bx.clear().limit(n), from + done) || !fill(y, by.clear().limit(n), to + done)
                        || !bx.flip().equals(by.flip())) {
                    return false;
                }
                done += n;
                progress.advance(n);
            }
            return true;
        }
    }

    /** Reads until {@code buffer} is full; false when the file ends first. */
    private static boolean fill(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                return false;
            }
        }
        return true;
    }
}

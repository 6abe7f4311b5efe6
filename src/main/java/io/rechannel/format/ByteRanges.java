package io.rechannel.format;

import io.rechannel.core.RechannelException;

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

    /** Chunks of a comparison: large enough for few calls, small enough to stay out of the way. */
    private static final int COMPARE_CHUNK = 1 << 20;

    /**
     * True when {@code length} bytes at {@code aOffset} of file {@code a} equal those at {@code bOffset} of file
     * {@code b}; read in chunks, so memory does not depend on the length. A file that cannot be read, or ends
     * first, is an I/O error naming it.
     */
    public static boolean same(Path a, long aOffset, Path b, long bOffset, long length) {
        return same(a, aOffset, b, bOffset, length, Progress.NONE);
    }

    /** The same, reporting the bytes compared to {@code progress}. */
    public static boolean same(Path a, long aOffset, Path b, long bOffset, long length, Progress progress) {
        try (FileChannel x = FileChannel.open(a, StandardOpenOption.READ);
             FileChannel y = FileChannel.open(b, StandardOpenOption.READ)) {
            ByteBuffer bx = ByteBuffer.allocate((int) Math.min(COMPARE_CHUNK, Math.max(1, length)));
            ByteBuffer by = ByteBuffer.allocate(bx.capacity());
            for (long done = 0; done < length; ) {
                int n = (int) Math.min(bx.capacity(), length - done);
                bx.clear().limit(n);
                by.clear().limit(n);
                readFully(x, bx, aOffset + done, a);
                readFully(y, by, bOffset + done, b);
                if (!bx.flip().equals(by.flip())) {
                    return false;
                }
                done += n;
                progress.advance(n);
            }
            return true;
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, a + ": cannot compare with " + b + ": "
                    + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path file) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new EOFException(file + " ends early");
            }
            at += n;
        }
    }

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

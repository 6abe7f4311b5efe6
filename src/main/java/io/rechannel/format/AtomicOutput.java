package io.rechannel.format;

import io.rechannel.core.RechannelException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * An output file that appears only when complete: work happens in a temporary file beside the target
 * and is renamed over it at the end; on failure the temporary file is removed and nothing is left.
 */
public final class AtomicOutput implements AutoCloseable {

    private final Path target;
    private final Path temporary;
    private boolean committed;
    private java.util.concurrent.CompletableFuture<Void> pendingCopy;

    private AtomicOutput(Path target, Path temporary) {
        this.target = target;
        this.temporary = temporary;
    }

    /**
     * Prepares to write {@code target} from {@code input}; refuses an output equal to the input, and an
     * existing output unless {@code force}.
     */
    public static AtomicOutput create(Path input, Path target, boolean force) {
        Path absolute = target.toAbsolutePath().normalize();
        try {
            if (Files.exists(absolute) && Files.isSameFile(input, absolute)) {
                throw RechannelException.usage(target + ": the output is the input file; rechannel never modifies its input");
            }
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": " + e.getMessage(), e);
        }
        if (Files.isDirectory(absolute)) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": is a directory");
        }
        if (Files.exists(absolute) && !force) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": exists; pass --force to overwrite it");
        }
        Path dir = absolute.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": its folder does not exist");
        }
        try {
            Path temporary = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".part");
            return new AtomicOutput(absolute, temporary);
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": cannot write in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The temporary file to work on. */
    public Path path() {
        return temporary;
    }

    /** Fills the temporary file with a byte-for-byte copy of {@code source} (the kernel copies, not the JVM). */
    public void copyFrom(Path source) {
        try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(temporary, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            try (Progress progress = Progress.of("copying " + source.getFileName(), in.size())) {
                ByteRanges.copy(in, 0, in.size(), out, 0, progress);
            }
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, source + ": cannot copy: " + e.getMessage(), e);
        }
    }

    /**
     * Starts {@link #copyFrom} on another thread, so the copy (usually the longest step) overlaps
     * reading and analysing the model; {@link #awaitCopy} waits for it.
     */
    public void startCopyFrom(Path source) {
        pendingCopy = java.util.concurrent.CompletableFuture.runAsync(() -> copyFrom(source));
    }

    /** Waits for the copy started by {@link #startCopyFrom}, rethrowing its failure. */
    public void awaitCopy() {
        if (pendingCopy == null) {
            return;
        }
        try {
            pendingCopy.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        } finally {
            pendingCopy = null;
        }
    }

    /** Moves the finished file into place, readable as an ordinary new file (or keeping the replaced file's mode). */
    public void commit() {
        try {
            try {
                java.util.Set<java.nio.file.attribute.PosixFilePermission> mode = Files.exists(target)
                        ? Files.getPosixFilePermissions(target)
                        : java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--");
                Files.setPosixFilePermissions(temporary, mode);
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the temporary file's own permissions stand
            }
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
            committed = true;
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": cannot move the finished file into place: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (pendingCopy != null) {
            try {
                pendingCopy.join();
            } catch (RuntimeException ignored) {
                // the copy's own failure matters less than the one being reported
            }
        }
        if (!committed) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException ignored) {
                // nothing more can be done; the name starts with a dot and ends in .part
            }
        }
    }
}

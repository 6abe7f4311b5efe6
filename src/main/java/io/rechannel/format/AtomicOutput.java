package io.rechannel.format;

import io.rechannel.core.OptionName;
import io.rechannel.core.RechannelException;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * An output that appears only when complete: it is written in a private staging folder beside the target
 * ({@link StagingFolder}) under its final file name, and moved into place at the end. Without
 * {@code force} the move never replaces a file, even one created meanwhile; on failure the staging folder
 * is removed and nothing is left. Files written beside {@link #path()} (an ONNX model's external data)
 * are committed with it, except scratch files named {@code *.part}. An output may never be one of the
 * files the input consists of.
 */
public final class AtomicOutput implements AutoCloseable {

    private static final Set<PosixFilePermission> NEW_FILE_MODE = PosixFilePermissions.fromString("rw-r--r--");

    private final List<Path> inputs;
    private final Path target;
    private final Path base;
    private final boolean force;
    private final Path folder;
    private final Path staged;
    private CompletableFuture<Void> pendingCopy;

    private AtomicOutput(List<Path> inputs, Path target, Path base, boolean force, Path folder) {
        this.inputs = inputs;
        this.target = target;
        this.base = base;
        this.force = force;
        this.folder = folder;
        this.staged = folder.resolve(target.getFileName());
    }

    /**
     * Prepares to write {@code target} from {@code input}; refuses an output equal to the input, and an
     * existing output unless {@code force}.
     */
    public static AtomicOutput create(Path input, Path target, boolean force) {
        return create(List.of(input), target, force);
    }

    /**
     * Prepares to write {@code target} from a model made of the files {@code inputs} (the model file
     * first, see {@link ModelFormat#parts}); refuses an output that is any of them, and an existing output
     * unless {@code force}. Removes the staging folders of dead runs in the target's folder.
     */
    public static AtomicOutput create(List<Path> inputs, Path target, boolean force) {
        AtomicOutput out = prepare(inputs, target, force);
        try {
            Files.createFile(out.staged);
        } catch (IOException e) {
            out.close();
            throw out.writeError(e);
        }
        return out;
    }

    /** As {@link #create}, without creating the file at {@link #path()}: for code that creates it itself. */
    public static AtomicOutput prepare(List<Path> inputs, Path target, boolean force) {
        Path absolute = target.toAbsolutePath().normalize();
        if (absolute.getFileName() == null) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": not a file name");
        }
        refuseInputFile(inputs, target, absolute);
        if (Files.isDirectory(absolute)) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": is a directory");
        }
        if (!force && Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": exists (" + OptionName.OVERWRITE + " not given)");
        }
        Path dir = absolute.getParent();
        if (!Files.isDirectory(dir)) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": its folder does not exist");
        }
        Path base = target.getParent();
        try {
            return new AtomicOutput(List.copyOf(inputs), target, base, force, StagingFolder.create(dir, base));
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": cannot write in " + dir + ": " + reason(e), e);
        }
    }

    /** The file to write, in the staging folder under the target's own name. */
    public Path path() {
        return staged;
    }

    /** Fills the new file with a byte-for-byte copy of {@code source} (the kernel copies, not the JVM). */
    public void copyFrom(Path source) {
        FileChannel in;
        try {
            in = FileChannel.open(source, StandardOpenOption.READ);
        } catch (IOException e) {
            throw readError(source, e);
        }
        // the file is new and empty: no truncation, which on ext4 would start writing it back at close
        try (in; FileChannel out = FileChannel.open(staged, StandardOpenOption.WRITE)) {
            try (Progress progress = Progress.of("copying " + source.getFileName(), in.size())) {
                ByteRanges.copy(in, 0, in.size(), out, 0, progress);
            } catch (IOException e) {
                throw failedCopy(source, in, out.size(), e);
            }
        } catch (IOException e) {
            throw writeError(e);
        }
    }

    /**
     * Starts {@link #copyFrom} on another thread, so the copy (usually the longest step) overlaps
     * reading and analysing the model; {@link #awaitCopy} waits for it.
     */
    public void startCopyFrom(Path source) {
        pendingCopy = CompletableFuture.runAsync(Progress.carried(() -> copyFrom(source)));
    }

    /** Waits for the copy started by {@link #startCopyFrom}, rethrowing its failure. */
    public void awaitCopy() {
        if (pendingCopy == null) {
            return;
        }
        try {
            pendingCopy.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        } finally {
            pendingCopy = null;
        }
    }

    /**
     * Moves the finished files into place (those beside {@link #path()} first), readable as ordinary new
     * files or keeping the mode of a file replaced with {@code force}. Without {@code force}, a target that
     * appeared meanwhile makes it fail (exit 3) and whatever this commit had placed is taken back.
     */
    public void commit() {
        List<Path> files = finishedFiles();
        for (Path file : files) {
            Path to = destination(file);
            refuseInputFile(inputs, to, to.toAbsolutePath().normalize());
            if (!force && !file.equals(staged) && Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
                throw new RechannelException(RechannelException.Kind.IO, to + ": exists (" + OptionName.OVERWRITE + " not given)");
            }
        }
        List<Path> placed = new ArrayList<>();
        try {
            for (Path file : files) {
                place(file, destination(file));
                placed.add(file);
            }
        } catch (RuntimeException e) {
            placed.forEach(this::takeBack);
            throw e;
        }
    }

    private void place(Path file, Path to) {
        try {
            setMode(file, to);
            if (force) {
                Placement.replacing(file, to);
            } else {
                Placement.withoutReplacing(file, to);
            }
        } catch (FileAlreadyExistsException e) {
            throw new RechannelException(RechannelException.Kind.IO, to
                    + ": appeared while rechannel was writing it; not replaced (" + OptionName.OVERWRITE + " not given)", e);
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, to + ": cannot move the finished file into place: "
                    + reason(e), e);
        }
    }

    /** Removes a file this commit linked into place, if it is still the one placed. */
    private void takeBack(Path file) {
        Path to = destination(file);
        try {
            Object placed = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            Object there = Files.readAttributes(to, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (placed != null && placed.equals(there)) {
                Files.delete(to);
            }
        } catch (IOException e) {
            // renamed (not linked) into place, or gone: nothing to take back
        }
    }

    /** The files to commit: those written beside the main one (not scratch {@code .part} files), then the main one. */
    private List<Path> finishedFiles() {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!entry.equals(staged) && !name.endsWith(".part") && Files.isRegularFile(entry, LinkOption.NOFOLLOW_LINKS)) {
                    files.add(entry);
                }
            }
        } catch (IOException e) {
            throw writeError(e);
        }
        files.sort(null);
        if (!Files.isRegularFile(staged, LinkOption.NOFOLLOW_LINKS)) {
            throw new RechannelException(RechannelException.Kind.IO, target + ": was not written");
        }
        files.add(staged);
        return files;
    }

    private Path destination(Path file) {
        return file.equals(staged) ? target : base == null ? file.getFileName() : base.resolve(file.getFileName());
    }

    private static void setMode(Path file, Path to) throws IOException {
        try {
            Files.setPosixFilePermissions(file, Files.exists(to) ? Files.getPosixFilePermissions(to) : NEW_FILE_MODE);
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the file's own permissions stand
        }
    }

    /** Removes the staging folder with everything in it; committed files stay where they were placed. */
    @Override
    public void close() {
        if (pendingCopy != null) {
            try {
                pendingCopy.join();
            } catch (RuntimeException ignored) {
                // the copy's own failure matters less than the one being reported
            }
        }
        StagingFolder.remove(folder);
    }

    /** The message with staging folders taken out of the paths it names, so that they name the outputs. */
    public static String withoutScratchNames(String message) {
        return StagingFolder.withoutStaging(message);
    }

    /** The exception with scratch names taken out of its message (itself when it names none). */
    public static RechannelException withoutScratchNames(RechannelException e) {
        String message = withoutScratchNames(e.getMessage());
        return Objects.equals(message, e.getMessage()) ? e : new RechannelException(e.kind(), message, e);
    }

    private static void refuseInputFile(List<Path> inputs, Path shown, Path absolute) {
        for (Path input : inputs) {
            if (sameFile(input, absolute, shown)) {
                throw RechannelException.usage(input == inputs.get(0)
                        ? shown + ": the output is the input file; rechannel never modifies its input"
                        : shown + ": is " + input + ", a file of the input model " + inputs.get(0)
                                + "; rechannel never modifies its input");
            }
        }
    }

    /** True when both name one file: through links (hard or symbolic) where both exist, else by path. */
    private static boolean sameFile(Path input, Path absolute, Path shown) {
        try {
            if (Files.exists(absolute) && Files.exists(input)) {
                return Files.isSameFile(input, absolute);
            }
        } catch (IOException e) {
            throw new RechannelException(RechannelException.Kind.IO, shown + ": " + reason(e), e);
        }
        return input.toAbsolutePath().normalize().equals(absolute);
    }

    /**
     * A copy failed: a read error is the input's, anything else the output's (a full disk). The kernel copy
     * does not say which side failed, so the input is read again where the copy stopped.
     */
    private RechannelException failedCopy(Path source, FileChannel in, long reached, IOException e) {
        if (e instanceof EOFException) {
            return readError(source, e);
        }
        try {
            if (in.size() > 0) {
                in.read(ByteBuffer.allocate(1), Math.min(reached, in.size() - 1));
            }
        } catch (IOException unreadable) {
            return readError(source, unreadable);
        }
        return writeError(e);
    }

    private static RechannelException readError(Path source, IOException e) {
        return new RechannelException(RechannelException.Kind.IO, source + ": cannot read: " + reason(e), e);
    }

    private RechannelException writeError(IOException e) {
        return new RechannelException(RechannelException.Kind.IO, target + ": cannot write: " + reason(e), e);
    }

    /** The cause in words, without the scratch path that Java's file exceptions put first. */
    private static String reason(IOException e) {
        if (e instanceof FileSystemException f) {
            return f.getReason() != null ? f.getReason()
                    : e instanceof NoSuchFileException ? "no such file or folder"
                    : e instanceof AccessDeniedException ? "permission denied"
                    : e instanceof FileAlreadyExistsException ? "it exists" : e.getClass().getSimpleName();
        }
        return e instanceof EOFException ? "it ended early (" + e.getMessage() + ")"
                : e.getMessage() == null ? e.getClass().getSimpleName() : withoutScratchNames(e.getMessage());
    }
}

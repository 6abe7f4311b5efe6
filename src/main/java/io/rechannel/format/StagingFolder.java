package io.rechannel.format;

import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The private folder beside an output where it is written before it is committed, named
 * {@code .rechannel-<pid>-<id>.part}. The owner's process id in the name lets a later run remove the
 * folders of runs that died (kill -9, a native crash) without touching those of live runs; a shutdown
 * hook removes this process's folders when the JVM is stopped (Ctrl-C, SIGTERM), and {@link RunRecord}
 * tells the launcher which to remove after a crash.
 */
final class StagingFolder {

    private static final String PREFIX = ".rechannel-";
    private static final String SUFFIX = ".part";
    private static final Pattern NAME = Pattern.compile("\\.rechannel-(\\d{1,18})-[0-9a-z]+\\.part");
    /** A staging folder as a path segment, with the separator after it. */
    private static final Pattern SEGMENT = Pattern.compile("\\.rechannel-\\d{1,18}-[0-9a-z]+\\.part[/\\\\]");
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(StagingFolder::deleteTree), "rechannel-cleanup"));
    }

    private StagingFolder() {
    }

    /**
     * Creates a new staging folder in {@code dir} ({@code base} is the same folder as the user wrote it,
     * so that paths inside read as theirs), after removing the stale ones of dead processes there.
     */
    static Path create(Path dir, Path base) throws IOException {
        removeStale(dir);
        String owner = PREFIX + ProcessHandle.current().pid() + "-";
        while (true) {
            String name = owner + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36) + SUFFIX;
            Path folder = base == null ? Path.of(name) : base.resolve(name);
            try {
                if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                    Files.createDirectory(folder, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } else {
                    Files.createDirectory(folder);
                }
            } catch (FileAlreadyExistsException e) {
                continue;
            }
            LIVE.add(folder);
            RunRecord.staging(folder);
            return folder;
        }
    }

    /** Removes the folder and everything in it. */
    static void remove(Path folder) {
        deleteTree(folder);
        LIVE.remove(folder);
    }

    /** Removes the staging folders in {@code dir} whose process is gone; anything else is left alone. */
    static void removeStale(Path dir) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, PREFIX + "*" + SUFFIX)) {
            for (Path entry : entries) {
                Matcher name = NAME.matcher(entry.getFileName().toString());
                if (name.matches() && ProcessHandle.of(Long.parseLong(name.group(1))).isEmpty()) {
                    deleteTree(entry);
                }
            }
        } catch (IOException | DirectoryIteratorException e) {
            // clean-up is a courtesy: a folder that cannot be listed is left as it is
        }
    }

    /** The message with every staging folder taken out of the paths it names, so that they name the outputs. */
    static String withoutStaging(String message) {
        return message == null ? null : SEGMENT.matcher(message).replaceAll("");
    }

    /** Deletes a tree without following links: a link is removed, never what it points to. */
    private static void deleteTree(Path root) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path folder, IOException e) throws IOException {
                    Files.deleteIfExists(folder);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // what cannot be deleted now is removed by the next run into this folder, once this process is gone
        }
    }
}

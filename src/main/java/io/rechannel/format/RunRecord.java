package io.rechannel.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What this run reads and where it stages outputs, for {@code bin/rechannel}: a native library that
 * crashes on a damaged file takes the JVM down before it can clean up or say anything, so the launcher
 * names the file in its one-line message and removes the staging folders from this record. The launcher
 * names the record in {@code RECHANNEL_RUN_RECORD}; without it nothing is recorded. One line per entry,
 * {@code reading PATH} or {@code part PATH}; a normal exit deletes the record.
 */
public final class RunRecord {

    /** The environment variable naming the record file. */
    public static final String VARIABLE = "RECHANNEL_RUN_RECORD";

    private static FileChannel record;
    private static boolean opened;

    private RunRecord() {
    }

    /** Notes that the run reads the model file {@code model} (as the user named it). */
    public static void reading(Path model) {
        write("reading " + model);
    }

    /** Notes a staging folder, which the launcher removes if the JVM dies. */
    static void staging(Path folder) {
        write("part " + folder.toAbsolutePath());
    }

    private static synchronized void write(String line) {
        if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
            return; // the launcher reads lines: a name with a line break cannot be recorded safely
        }
        FileChannel out = open();
        if (out == null) {
            return;
        }
        try {
            out.write(ByteBuffer.wrap((line + "\n").getBytes(fileNameEncoding())));
        } catch (IOException e) {
            // without the record the next run into the folder still removes what a crash leaves
        }
    }

    private static FileChannel open() {
        if (opened) {
            return record;
        }
        opened = true;
        String name = System.getenv(VARIABLE);
        if (name == null || name.isEmpty()) {
            return null;
        }
        try {
            Path file = Path.of(name);
            // a new file only: an existing one (or a link planted in its place) is never written to
            record = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    // the launcher removes it
                }
            }, "rechannel-record"));
        } catch (IOException | InvalidPathException | UnsupportedOperationException e) {
            record = null;
        }
        return record;
    }

    /** The encoding the JVM uses for file names, so that the shell reads back the same bytes. */
    private static Charset fileNameEncoding() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (RuntimeException e) {
            return Charset.defaultCharset();
        }
    }
}

package io.rechannel.format;

import io.rechannel.core.RechannelException;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The output is committed in one step, never replacing a file without force, and leaves nothing behind. */
class AtomicOutputTest {

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The target holds the new content with {@code mode}, beside the input and nothing else. */
    private static void assertNewWithMode(Path target, String mode) throws IOException {
        assertEquals("new", Files.readString(target));
        assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        assertEquals(List.of("model.bin", "out.bin"), names(target.getParent()));
    }

    private static Path input(Path dir) throws IOException {
        return Files.writeString(dir.resolve("model.bin"), "the model");
    }

    @Test
    void writesInAPrivateFolderNamedForThisProcess(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("out.bin");
        try (AtomicOutput out = AtomicOutput.create(input(dir), target, false)) {
            assertEquals("out.bin", out.path().getFileName().toString());
            String folder = out.path().getParent().getFileName().toString();
            assertTrue(folder.matches("\\.rechannel-" + ProcessHandle.current().pid() + "-[0-9a-z]+\\.part"), folder);
            assertEquals(dir, out.path().getParent().getParent());
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.path().getParent())));
            Files.writeString(out.path(), "new");
            out.commit();
        }
        assertNewWithMode(target, "rw-r--r--");
    }

    @Test
    void aFileThatAppearedBeforeTheCommitIsNotReplaced(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("out.bin");
        try (AtomicOutput out = AtomicOutput.create(input(dir), target, false)) {
            Files.writeString(out.path(), "ours");
            Files.writeString(target, "theirs");
            RechannelException e = assertThrows(RechannelException.class, out::commit);
            assertEquals(RechannelException.Kind.IO, e.kind());
            assertEquals(target + ": appeared while rechannel was writing it; not replaced (option 'overwrite' not given)",
                    e.getMessage());
        }
        assertEquals("theirs", Files.readString(target));
        assertEquals(List.of("model.bin", "out.bin"), names(dir));
    }

    @RepeatedTest(20)
    void ofTwoWritersPastTheExistenceCheckExactlyOneCommits(@TempDir Path dir) throws Exception {
        Path input = input(dir);
        Path target = dir.resolve("out.bin");
        CyclicBarrier bothChecked = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Boolean>> runs = new ArrayList<>();
            for (String content : List.of("first", "second")) {
                runs.add(pool.submit(() -> {
                    try (AtomicOutput out = AtomicOutput.create(input, target, false)) {
                        Files.writeString(out.path(), content);
                        bothChecked.await();
                        out.commit();
                        return true;
                    } catch (RechannelException e) {
                        assertTrue(e.getMessage().contains("appeared while rechannel was writing it"), e.getMessage());
                        return false;
                    }
                }));
            }
            boolean first = runs.get(0).get();
            boolean second = runs.get(1).get();
            assertTrue(first ^ second, "exactly one commits: " + first + ", " + second);
            assertEquals(first ? "first" : "second", Files.readString(target));
        } finally {
            pool.shutdownNow();
        }
        assertEquals(List.of("model.bin", "out.bin"), names(dir));
    }

    @Test
    void forceReplacesKeepingTheReplacedFilesMode(@TempDir Path dir) throws IOException {
        Path target = Files.writeString(dir.resolve("out.bin"), "old");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r-----"));
        assertThrows(RechannelException.class, () -> AtomicOutput.create(input(dir), target, false));
        try (AtomicOutput out = AtomicOutput.create(input(dir), target, true)) {
            Files.writeString(out.path(), "new");
            out.commit();
        }
        assertNewWithMode(target, "rw-r-----");
    }

    @Test
    void filesWrittenBesideAreCommittedWithItScratchFilesAreNot(@TempDir Path dir) throws IOException {
        try (AtomicOutput out = AtomicOutput.create(input(dir), dir.resolve("out.bin"), false)) {
            Files.writeString(out.path(), "model");
            Files.writeString(out.path().resolveSibling("out.bin.data"), "data");
            Files.writeString(out.path().resolveSibling(".out.bin.123.config.json.part"), "scratch");
            out.commit();
        }
        assertEquals(List.of("model.bin", "out.bin", "out.bin.data"), names(dir));
        assertEquals("data", Files.readString(dir.resolve("out.bin.data")));
    }

    @Test
    void anExistingFileBesideIsNotReplacedAndNothingIsCommitted(@TempDir Path dir) throws IOException {
        Path data = Files.writeString(dir.resolve("out.bin.data"), "theirs");
        try (AtomicOutput out = AtomicOutput.create(input(dir), dir.resolve("out.bin"), false)) {
            Files.writeString(out.path(), "model");
            Files.writeString(out.path().resolveSibling("out.bin.data"), "ours");
            RechannelException e = assertThrows(RechannelException.class, out::commit);
            assertEquals(data + ": exists (option 'overwrite' not given)", e.getMessage());
        }
        assertEquals("theirs", Files.readString(data));
        assertEquals(List.of("model.bin", "out.bin.data"), names(dir));
    }

    @Test
    void whenTheMainFileCannotBePlacedTheFilesBesideAreTakenBack(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("out.bin");
        try (AtomicOutput out = AtomicOutput.create(input(dir), target, false)) {
            Files.writeString(out.path(), "model");
            Files.writeString(out.path().resolveSibling("out.bin.data"), "data");
            Files.writeString(target, "theirs");
            assertThrows(RechannelException.class, out::commit);
        }
        assertEquals(List.of("model.bin", "out.bin"), names(dir));
        assertEquals("theirs", Files.readString(target));
    }

    @Test
    void withoutLinksTheNameIsClaimedExclusively(@TempDir Path dir) throws IOException {
        Path staged = Files.writeString(dir.resolve("staged"), "ours");
        Path taken = Files.writeString(dir.resolve("taken"), "theirs");
        assertThrows(FileAlreadyExistsException.class, () -> Placement.claimAndRename(staged, taken));
        assertEquals("theirs", Files.readString(taken));
        assertEquals("ours", Files.readString(staged));
        Path free = dir.resolve("free");
        Placement.claimAndRename(staged, free);
        assertEquals("ours", Files.readString(free));
        assertEquals(List.of("free", "taken"), names(dir));
    }

    @Test
    void aFullDiskIsReportedForTheOutputNotTheInput(@TempDir Path dir) throws IOException {
        Path full = Path.of("/dev/full");
        assertTrue(Files.exists(full), "Linux's /dev/full stands in for a full disk");
        Path input = input(dir);
        Path target = dir.resolve("out.bin");
        try (AtomicOutput out = AtomicOutput.create(input, target, false)) {
            Files.delete(out.path());
            Files.createSymbolicLink(out.path(), full);
            RechannelException e = assertThrows(RechannelException.class, () -> out.copyFrom(input));
            assertEquals(RechannelException.Kind.IO, e.kind());
            assertEquals(target + ": cannot write: No space left on device", e.getMessage());
        }
        assertEquals(List.of("model.bin"), names(dir));
    }

    @Test
    void anUnreadableInputIsReportedForTheInput(@TempDir Path dir) throws IOException {
        Path folder = Files.createDirectory(dir.resolve("model.bin"));
        try (AtomicOutput out = AtomicOutput.create(folder, dir.resolve("out.bin"), false)) {
            RechannelException e = assertThrows(RechannelException.class, () -> out.copyFrom(folder));
            assertTrue(e.getMessage().startsWith(folder + ": cannot read: "), e.getMessage());
        }
        assertEquals(List.of("model.bin"), names(dir));
    }

    @Test
    void stagingFoldersOfDeadRunsAreRemovedOthersKept(@TempDir Path dir) throws Exception {
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        long dead = exited.pid();
        assertTrue(ProcessHandle.of(dead).isEmpty(), "process " + dead + " has ended");
        Process sleeping = new ProcessBuilder("sleep", "60").start();
        try {
            Path stale = Files.createDirectory(dir.resolve(".rechannel-" + dead + "-k3x.part"));
            Files.writeString(stale.resolve("big.h5"), "half a model");
            Files.createDirectory(dir.resolve(".rechannel-" + sleeping.pid() + "-k3x.part"));
            Files.createDirectory(dir.resolve(".rechannel-" + ProcessHandle.current().pid() + "-k3x.part"));
            Path victim = Files.createDirectory(dir.resolve("victim"));
            Files.writeString(victim.resolve("keep.txt"), "mine");
            Files.createSymbolicLink(dir.resolve(".rechannel-" + dead + "-link.part"), victim);
            Files.writeString(dir.resolve("notes.part"), "a user's file");
            Files.writeString(dir.resolve(".rechannel-notes.part"), "a user's file");
            Files.writeString(dir.resolve(".rechannel-" + dead + "-k3x.partial"), "a user's file");

            try (AtomicOutput out = AtomicOutput.create(input(dir), dir.resolve("out.bin"), false)) {
                assertTrue(Files.exists(out.path()));
            }

            assertEquals(Set.of(".rechannel-" + dead + "-k3x.partial", ".rechannel-" + ProcessHandle.current().pid() + "-k3x.part",
                    ".rechannel-" + sleeping.pid() + "-k3x.part", ".rechannel-notes.part", "model.bin", "notes.part", "victim"),
                    Set.copyOf(names(dir)));
            assertEquals("mine", Files.readString(victim.resolve("keep.txt")));
        } finally {
            sleeping.destroy();
        }
    }

    @Test
    void messagesLoseTheStagingFolders() {
        assertEquals("/a/b/out.h5: not an HDF5 file",
                AtomicOutput.withoutScratchNames("/a/b/.rechannel-12-k3x9.part/out.h5: not an HDF5 file"));
        assertEquals("out/m.onnx.data and m.onnx", AtomicOutput.withoutScratchNames(
                "out/.rechannel-12-a.part/.rechannel-12-b.part/m.onnx.data and .rechannel-7-c.part/m.onnx"));
        assertEquals("my .rechannel-notes.part/x", AtomicOutput.withoutScratchNames("my .rechannel-notes.part/x"));
    }

    @Test
    void anOutputInAMissingFolderIsRefused(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("no/out.bin");
        RechannelException e = assertThrows(RechannelException.class, () -> AtomicOutput.create(input(dir), target, false));
        assertEquals(target + ": its folder does not exist", e.getMessage());
        assertFalse(Files.exists(dir.resolve("no")));
    }
}

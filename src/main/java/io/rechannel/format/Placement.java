package io.rechannel.format;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Moving a finished file to its final name in one step, either never replacing a file or always. */
final class Placement {

    private Placement() {
    }

    /**
     * Gives {@code staged} the name {@code target} unless something has that name, checked and done in one
     * step by the file system: a hard link, which fails when the name exists. Where links are not
     * supported, the name is claimed by creating an empty file there (which fails when it exists) and the
     * finished file renamed over the claim.
     *
     * @throws FileAlreadyExistsException when {@code target} exists
     */
    static void withoutReplacing(Path staged, Path target) throws IOException {
        try {
            Files.createLink(target, staged);
            return;
        } catch (FileAlreadyExistsException e) {
            throw e;
        } catch (UnsupportedOperationException | IOException e) {
            // no hard links here (FAT, some network file systems): claim the name instead
        }
        claimAndRename(staged, target);
    }

    /** The fallback of {@link #withoutReplacing}: an exclusive claim of the name, then a rename over it. */
    static void claimAndRename(Path staged, Path target) throws IOException {
        Files.createFile(target);
        try {
            replacing(staged, target);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(target);
            throw e;
        }
    }

    /** Renames {@code staged} to {@code target}, replacing what is there in one step where the file system can. */
    static void replacing(Path staged, Path target) throws IOException {
        try {
            Files.move(staged, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}

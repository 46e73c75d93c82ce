package dev.isthmus.nn.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The temporary file of an atomic save, beside its target: {@code .<name>.<random>.tmp}. Unlike
 * {@link Files#createTempFile}, which always creates mode 0600, the file is created with the
 * process's umask applied (0644 under umask 0022), so the renamed result has the permissions any
 * other file the user writes has. The name pattern is what {@link #isLeftover} recognises, so an
 * interrupted save can be cleaned up at the next start in that folder.
 */
public final class TempFiles {
    private TempFiles() {}

    /** Creates an empty temporary file in {@code target}'s folder (which must exist). */
    public static Path createBeside(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + absolute.getFileName() + "."
                    + Long.toUnsignedString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                return Files.createFile(tmp);   // no attributes: the umask decides the mode
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) throw e;
            } catch (java.nio.file.NoSuchFileException e) {   // else the message is only the temporary file's path
                throw new java.nio.file.NoSuchFileException(absolute.toString(), null,
                        "cannot save: the folder " + dir + " does not exist (deleted while the run was writing to it?)");
            } catch (java.nio.file.AccessDeniedException e) {
                throw new java.nio.file.AccessDeniedException(absolute.toString(), null, "cannot save: the folder " + dir + " is not writable");
            }
        }
    }

    /** Whether {@code name} is the temporary file of an interrupted save ({@code .<name>.<digits>.tmp}). */
    public static boolean isLeftover(String name) {
        return name.startsWith(".") && name.endsWith(".tmp") && name.length() > 5;
    }
}

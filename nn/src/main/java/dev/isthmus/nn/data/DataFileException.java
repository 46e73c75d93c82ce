package dev.isthmus.nn.data;

import java.nio.file.Path;

/**
 * A data file that cannot be used as it is: truncated, corrupted, of the wrong
 * format or dimensions, or with the wrong SHA-256. The message names the file,
 * what was expected and what came. Unchecked: bad input at the boundary, like
 * an {@link IllegalArgumentException}, which it is.
 */
public final class DataFileException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public DataFileException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public DataFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }
}

// What a training run says when SIGINT or SIGTERM ends it: where it was and which checkpoint it
// kept, so that the user knows what --resume will continue from. The saves themselves are atomic
// (a temporary file renamed), so an interrupted save leaves the previous checkpoint whole.
package dev.isthmus.examples;

import dev.isthmus.nn.Progress;

import java.io.PrintStream;
import java.nio.file.Path;

/** A shutdown hook for one training run; {@link #close()} at the normal end removes it. */
final class RunInterrupt implements AutoCloseable {
    private final Progress progress;
    private final Path checkpoint;
    private final PrintStream err;
    private final Thread hook;
    private volatile int savedEpoch = -1;

    private RunInterrupt(Progress progress, Path checkpoint, PrintStream err) {
        this.progress = progress;
        this.checkpoint = checkpoint;
        this.err = err;
        this.hook = new Thread(this::report, "isthmus-interrupt");
    }

    /** Installs the hook for a run that saves its checkpoints to {@code checkpoint}. */
    static RunInterrupt install(Progress progress, Path checkpoint, PrintStream err) {
        RunInterrupt r = new RunInterrupt(progress, checkpoint, err);
        Runtime.getRuntime().addShutdownHook(r.hook);
        return r;
    }

    /** Records that the checkpoint of {@code epoch} is written (or, on --resume, read). */
    void saved(int epoch) { savedEpoch = epoch; }

    /** The line printed on interrupt. */
    String message() {
        int e = savedEpoch;
        return "interrupted at " + progress.position() + "; "
                + (e > 0 ? "last checkpoint epoch " + e + " in " + checkpoint + " (--resume " + checkpoint + " continues it)"
                         : "no checkpoint written yet");
    }

    private void report() {
        err.println();
        err.println("isthmus: " + Terminal.escape(message()));
        err.flush();
    }

    @Override public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook runs
        }
    }
}

package dev.isthmus.engine.mpi;

import java.util.function.Consumer;

/**
 * Bounds every blocking collective: the caller marks the start and the end of a call, and a
 * daemon thread that finds one running longer than the timeout hands its description to
 * {@code onTimeout} (which aborts the job). A rank that died is normally noticed by
 * {@code mpirun} itself within a second; this catches the rest: a rank stuck in a loop, a lost
 * peer over TCP, a rank that skipped a collective. Nothing is allocated per call.
 */
final class Watchdog implements AutoCloseable {
    private final long timeoutNanos;
    private final Consumer<String> onTimeout;
    private final Thread thread;
    private volatile String call;      // the call in progress, or null
    private volatile long count;       // its element count (-1: none)
    private volatile String unit;      // what it counts
    private volatile long since;       // System.nanoTime() at its start
    private volatile boolean closed;

    Watchdog(double timeoutSeconds, Consumer<String> onTimeout) {
        this.timeoutNanos = (long) (timeoutSeconds * 1e9);
        this.onTimeout = onTimeout;
        this.thread = Thread.ofPlatform().daemon(true).name("isthmus-mpi-watchdog").unstarted(this::watch);
        thread.start();
    }

    /**
     * Marks the start of a blocking call, described as {@code what} followed by {@code count}
     * and {@code unit} ("MPI_Allreduce of ", 61100840, "floats"); formatted only on a timeout.
     */
    void enter(String what, long count, String unit) {
        since = System.nanoTime();
        this.count = count;
        this.unit = unit;
        call = what;
    }

    void exit() {
        call = null;
    }

    private void watch() {
        long period = Math.max(20_000_000L, Math.min(1_000_000_000L, timeoutNanos / 10));
        while (!closed) {
            try {
                Thread.sleep(period / 1_000_000L);
            } catch (InterruptedException e) {
                return;
            }
            String c = call;
            if (c != null && count >= 0) c = c + String.format(java.util.Locale.ROOT, "%,d", count) + " " + unit;
            long elapsed = System.nanoTime() - since;
            if (c != null && elapsed > timeoutNanos && !closed) {
                onTimeout.accept(c + " has not completed after " + String.format(java.util.Locale.ROOT, "%.1f", elapsed / 1e9) + " s");
                return;
            }
        }
    }

    @Override public void close() {
        closed = true;
        thread.interrupt();
    }
}

package dev.isthmus.engine.simd;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The simd backend's one fixed pool of daemon threads, created with the backend and shut
 * down on its close; no op starts threads per call. {@link #run} splits work into tasks
 * with fixed indices: task 0 runs on the caller, the others on the pool. Several callers
 * may run at once (they queue for the pool threads). A task that itself calls {@code run}
 * runs its subtasks inline, so nesting can never deadlock the fixed pool.
 */
final class WorkerPool implements AutoCloseable {
    private final int threads;
    private final ExecutorService executor;   // null with one thread: everything runs on the caller
    private volatile boolean closed;

    WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("simd threads must be >= 1, got " + threads);
        this.threads = threads;
        this.executor = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new PoolThread(this, r);
            t.setDaemon(true);   // why: an unclosed backend must not keep the JVM alive
            return t;
        });
    }

    /** Participants a call can use: the caller plus the pool's threads. */
    int threads() { return threads; }

    /** Runs {@code body.accept(t)} for every t in [0, tasks), each task exactly once; rethrows the first failure. */
    void run(int tasks, IntConsumer body) {
        checkOpen();
        if (tasks <= 1 || executor == null || insidePool()) {
            for (int t = 0; t < tasks; t++) body.accept(t);
            return;
        }
        CountDownLatch done = new CountDownLatch(tasks - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int t = 1; t < tasks; t++) {
            int task = t;
            try {
                executor.execute(() -> {
                    try {
                        body.accept(task);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        done.countDown();
                    }
                });
            } catch (RejectedExecutionException e) {
                throw new IllegalStateException("simd backend is closed", e);
            }
        }
        try {
            body.accept(0);
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;   // the tasks write into the caller's tensors: wait for them whatever happens
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        Throwable e = failure.get();
        if (e instanceof RuntimeException re) throw re;
        if (e instanceof Error er) throw er;
        if (e != null) throw new IllegalStateException(e);
    }

    /** Splits [0, n) into {@code parts} contiguous ranges as even as possible: the start of part {@code i}. */
    static int split(int n, int parts, int i) {
        return (int) ((long) n * i / parts);
    }

    /** Throws once the backend is closed, whether or not a call would have used the pool threads. */
    void checkOpen() {
        if (closed) throw new IllegalStateException("simd backend is closed");
    }

    private boolean insidePool() {
        return Thread.currentThread() instanceof PoolThread p && p.pool == this;
    }

    @Override public void close() {
        closed = true;
        if (executor != null) executor.shutdown();
    }

    private static final class PoolThread extends Thread {
        private static final java.util.concurrent.atomic.AtomicInteger COUNT = new java.util.concurrent.atomic.AtomicInteger();
        final WorkerPool pool;

        PoolThread(WorkerPool pool, Runnable r) {
            super(r, "isthmus-simd-" + COUNT.incrementAndGet());
            this.pool = pool;
        }
    }
}

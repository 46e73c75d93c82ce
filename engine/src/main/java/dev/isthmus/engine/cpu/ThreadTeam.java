package dev.isthmus.engine.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * A host backend's one fixed team of threads: the caller plus {@code threads - 1} daemon threads,
 * started with the backend and stopped by its close; no op starts threads per call. Two ways to
 * share work:
 *
 * <ul>
 *   <li>{@link #run(int, IntConsumer)}: tasks with fixed indices (the simd backend's convolutions,
 *       GEMMs, pooling), task t on participant t mod threads, task 0 on the caller;</li>
 *   <li>{@link #run(long, RangeBody)}: one range of elements [0, n) in contiguous parts, for the
 *       memory-bound element-wise kernels over large tensors (optimizer updates, activations,
 *       fill, axpy), which one core cannot saturate memory for (SGD over AlexNet's 61 million
 *       parameters: 46 ms on one thread, 26 ms on two, measured).</li>
 * </ul>
 *
 * <p>Nothing is allocated per call by the team: its threads park between calls (no spinning, so a
 * busy machine loses nothing to them) and wake on a generation counter, and the completion count
 * is one reused atomic. Callers take turns (one call at a time); a call made from inside a running
 * call (by a task, on any participant) runs inline, so nesting cannot deadlock. Range parts start on
 * multiples of {@link #ALIGN} elements, so every part but the last is whole vectors and an
 * element-wise kernel gives the same bits however the range is split.
 */
public final class ThreadTeam implements AutoCloseable {
    /** The work over one part of a range, [from, to). */
    public interface RangeBody {
        void run(long from, long to);
    }

    /** Below this many elements a range runs on the caller alone: the hand-off costs more than it saves. */
    public static final long MIN_PARALLEL = 1L << 20;
    /** Range parts start on multiples of this many elements (one AVX-512 vector of floats). */
    static final long ALIGN = 16;

    private final int threads;                       // the caller included
    private final Thread[] members;
    private final ReentrantLock turn = new ReentrantLock();
    private final AtomicInteger unfinished = new AtomicInteger();
    private volatile long generation;                // bumped per call; each member waits for a new one
    private volatile IntConsumer tasks;              // this call's work: tasks ...
    private volatile int taskCount;
    private volatile RangeBody range;                // ... or a range
    private volatile long length;
    private volatile Thread caller;                  // the thread whose call is running; null between calls
    private volatile Throwable failure;
    private volatile boolean closed;

    /** A team of {@code threads} participants; the daemon threads are named {@code name-1, name-2, ...}. */
    public ThreadTeam(int threads, String name) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.members = new Thread[threads - 1];
        for (int i = 0; i < members.length; i++) {
            int part = i + 1;
            members[i] = Thread.ofPlatform().daemon().name(name + "-" + part).start(() -> member(part));
        }
    }

    /** Participants a call can use: the caller plus the team's threads. */
    public int threads() { return threads; }

    /** Runs {@code body.accept(t)} for every t in [0, tasks), each exactly once; rethrows the first failure. */
    public void run(int tasks, IntConsumer body) {
        checkOpen();
        if (tasks <= 1 || threads == 1 || insideCall()) {
            for (int t = 0; t < tasks; t++) body.accept(t);
            return;
        }
        turn.lock();
        try {
            this.tasks = body;
            this.taskCount = tasks;
            go();
        } finally {
            this.tasks = null;
            turn.unlock();
        }
    }

    /** Runs {@code body} over [0, n), split among the team when n is at least {@link #MIN_PARALLEL}. */
    public void run(long n, RangeBody body) {
        checkOpen();
        if (n < MIN_PARALLEL || threads == 1 || insideCall()) {
            body.run(0, n);
            return;
        }
        turn.lock();
        try {
            this.range = body;
            this.length = n;
            go();
        } finally {
            this.range = null;
            turn.unlock();
        }
    }

    /** The start of contiguous part {@code part} of {@code parts} over [0, n): an even split. */
    public static int split(int n, int parts, int part) {
        return (int) ((long) n * part / parts);
    }

    /** Throws once the team is closed, whether or not a call would have used its threads. */
    public void checkOpen() {
        if (closed) throw new IllegalStateException("the backend's threads are closed");
    }

    /** Wakes the members for the call set up in the fields, does part 0, waits for the rest. Holds {@link #turn}. */
    private void go() {
        // Again under the turn: a close between the caller's first check and its turn has let the
        // members exit, and waiting for them would hang the caller forever (CloseDuringUseTest).
        checkOpen();
        failure = null;
        caller = Thread.currentThread();
        unfinished.set(threads - 1);
        generation = generation + 1;   // publishes the call's fields to the members
        for (Thread t : members) LockSupport.unpark(t);
        Throwable mine = null;
        try {
            share(0);
        } catch (Throwable e) {
            mine = e;
        }
        boolean interrupted = false;
        while (unfinished.get() != 0) {   // the parts write into the caller's tensors: wait for them whatever happens
            LockSupport.park(this);
            if (Thread.interrupted()) interrupted = true;
        }
        caller = null;
        if (interrupted) Thread.currentThread().interrupt();
        Throwable e = mine != null ? mine : failure;
        if (e instanceof RuntimeException re) throw re;
        if (e instanceof Error er) throw er;
        if (e != null) throw new IllegalStateException(e);
    }

    /** Participant {@code p}'s share of the current call. */
    private void share(int p) {
        RangeBody r = range;
        if (r != null) {
            long n = length;
            r.run(rangeStart(n, p), rangeStart(n, p + 1));
        } else {
            IntConsumer body = tasks;
            for (int t = p, count = taskCount; t < count; t += threads) body.accept(t);
        }
    }

    private long rangeStart(long n, int part) {
        return part == threads ? n : n / ALIGN * part / threads * ALIGN;
    }

    private boolean insideCall() {
        Thread me = Thread.currentThread();
        if (me == caller) return true;
        for (Thread m : members) if (m == me) return true;
        return false;
    }

    private void member(int part) {
        long seen = 0;
        while (true) {
            while (generation == seen && !closed) LockSupport.park(this);
            if (closed) return;
            seen = generation;
            try {
                share(part);
            } catch (Throwable e) {
                failure = e;
            } finally {
                if (unfinished.decrementAndGet() == 0) LockSupport.unpark(caller);
            }
        }
    }

    /** Stops the team's threads once the current call, if any, has finished. Idempotent. */
    @Override public void close() {
        turn.lock();
        try {
            closed = true;
        } finally {
            turn.unlock();
        }
        for (Thread t : members) LockSupport.unpark(t);
    }
}

package dev.isthmus.engine;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The guard that keeps a native resource alive while calls use it: every call brackets its work
 * with {@link #enter()} and {@link #exit()}; {@link #close()} refuses new calls, then waits until
 * the calls in flight have left, and only then may the owner free what they use. So closing a
 * plan, a compiled model or a backend while other threads run it either waits for them or makes
 * their next call fail with an {@link IllegalStateException} naming what was closed; it never
 * frees memory a native call is still reading.
 *
 * <p>Cost on the hot path: one atomic increment, one volatile read and one atomic decrement per
 * call, no allocation. Correctness is a Dekker handshake: {@code enter} increments then reads
 * {@code closed}, {@code close} writes {@code closed} then reads the count; both are
 * synchronization actions, so at least one of them sees the other.
 *
 * <p>Not re-entrant for close: a thread must not close a lifetime from inside one of its own calls
 * (it would wait for itself). A call that never returns makes close wait forever.
 */
public final class Lifetime {
    private final String what;
    private final Lifetime parent;            // e.g. the backend of a plan: named when it was the one closed
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean closed;

    /** A lifetime for {@code what} ("dnnl conv2d(...) plan"), named in the exception after close. */
    public Lifetime(String what) {
        this(what, null);
    }

    /** As {@link #Lifetime(String)}; when {@code parent} is closed too, the message says so. */
    public Lifetime(String what, Lifetime parent) {
        this.what = what;
        this.parent = parent;
    }

    /** Starts a call; throws {@link IllegalStateException} naming what was closed. Pair with {@link #exit()} in a finally. */
    public void enter() {
        inFlight.getAndIncrement();
        if (closed) {
            inFlight.getAndDecrement();
            throw closedException();
        }
    }

    /** Ends a call started by {@link #enter()}. */
    public void exit() {
        inFlight.getAndDecrement();
    }

    /** Throws as {@link #enter()} would, without starting a call. */
    public void checkOpen() {
        if (closed) throw closedException();
    }

    public boolean isClosed() { return closed; }

    /** Calls in flight now (for tests and messages). */
    public int inFlight() { return inFlight.get(); }

    /**
     * Refuses new calls, then waits for the calls in flight to leave. Returns true for the first
     * close, false when already closed (then it still waits, so every closer may free afterwards).
     */
    public boolean close() {
        boolean first;
        synchronized (this) {
            first = !closed;
            closed = true;
        }
        long spins = 0;
        while (inFlight.get() != 0) {
            // Calls are microseconds to seconds long: spin briefly, then sleep in short steps.
            if (++spins < 1_000) Thread.onSpinWait();
            else LockSupport.parkNanos(50_000);
        }
        return first;
    }

    private IllegalStateException closedException() {
        String because = parent != null && parent.closed ? " (its " + parent.what + " was closed)" : "";
        return new IllegalStateException(what + " is closed" + because);
    }

    @Override public String toString() { return what + (closed ? " (closed)" : ", " + inFlight.get() + " calls in flight"); }
}

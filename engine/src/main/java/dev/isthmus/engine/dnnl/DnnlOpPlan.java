package dev.isthmus.engine.dnnl;

import dev.isthmus.engine.Lifetime;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every oneDNN plan shares: its native objects, its {@link DnnlCall}s, its execution
 * contexts, its reorder counter, and a close that frees all of it once.
 *
 * <p>Memory lifetime: every native object a plan creates is registered with {@link #own} and
 * destroyed on {@link #close()} in reverse order; buffers (reorder buffers, scratchpads, argument
 * arrays) come from the plan's arena, freed last. The arena is shared because a context may be
 * created on one thread and used on another.
 *
 * <p>Execution contexts: one call at a time uses a context (its {@code dnnl_memory} objects are
 * re-pointed per call, its scratchpad is overwritten), so concurrent calls need one each. Instead
 * of one per thread, a plan keeps a small pool that grows to the largest number of concurrent
 * calls it has seen: acquiring is a scan with compare-and-set, releasing a volatile write, and
 * neither allocates. Short-lived or virtual threads leave nothing behind.
 *
 * <p>Closing while calls run: every call holds the plan's {@link Lifetime} from {@link #acquire}
 * to {@link #release}, and {@link #close()} first refuses new calls and waits for those in flight,
 * so no oneDNN memory is re-pointed or freed under a running primitive (before this, closing a
 * model or its backend during a forward crashed the JVM in libdnnl). A call after close throws
 * {@link IllegalStateException} naming the plan, and the backend when that was what closed.
 */
abstract class DnnlOpPlan implements AutoCloseable {
    /** Alignment of every buffer handed to oneDNN: a cache line, one AVX-512 register. */
    static final long ALIGNMENT = 64;

    private final DnnlBackend backend;
    private final String name;
    private final Arena arena = Arena.ofShared();
    private final List<Dnnl.Handle> owned = new ArrayList<>();   // closed in reverse on close()
    private final List<DnnlCall> calls = new ArrayList<>();
    private final Dnnl.Attr attr;
    private final LongAdder reorders = new LongAdder();
    private volatile Context[] contexts = new Context[0];
    private volatile boolean closed;
    private final Lifetime lifetime;
    private final Object contextLock = new Object();   // not this: close waits for calls while holding this

    DnnlOpPlan(DnnlBackend backend, String name) {
        this.backend = backend;
        this.name = name;
        this.lifetime = new Lifetime(name + " plan", backend.lifetime());
        this.attr = own(Dnnl.Attr.userScratchpad());
    }

    /** The op this plan runs, e.g. {@code conv2d([64, 1, 32, 32] -> [64, 6, 28, 28], k=5,s=1)}. */
    final String name() { return name; }

    final Dnnl.Engine engine() { return backend.engine(); }

    /** The attribute every primitive and reorder of this plan is created with: user scratchpad mode. */
    final Dnnl.Attr attr() { return attr; }

    /** Registers a native object to destroy on close; returns it. */
    final <T extends Dnnl.Handle> T own(T handle) {
        owned.add(handle);
        return handle;
    }

    /** Adds a primitive call; its index in {@link Context#call} is the order of creation. */
    final DnnlCall call(String callName, Dnnl.PrimitiveDesc pd) {
        DnnlCall c = new DnnlCall(this, callName, pd);
        calls.add(c);
        return c;
    }

    /** Reorders this plan has executed, all threads together. */
    public final long reorderCount() { return reorders.sum(); }

    /** Execution contexts created so far: the largest number of concurrent calls seen. */
    final int contextCount() { return contexts.length; }

    /** Throws {@link IllegalStateException} once closed; call first at every entry point. */
    final void checkOpen() {
        lifetime.checkOpen();
    }

    /** Starts a call that holds no context (it keeps the plan open until {@link #exit()}); pair in a finally. */
    final void enter() { lifetime.enter(); }

    final void exit() { lifetime.exit(); }

    /**
     * A context for one call on this thread, holding the plan open; give it back with
     * {@link #release} in a finally. Throws {@link IllegalStateException} once closed.
     */
    final Context acquire() {
        lifetime.enter();
        try {
            for (Context c : contexts) {
                if (c.tryAcquire()) return c;
            }
            return newContext();
        } catch (RuntimeException | Error e) {
            lifetime.exit();
            throw e;
        }
    }

    final void release(Context c) {
        c.release();
        lifetime.exit();
    }

    /** Runs call {@code index} of context {@code c} on a leased stream and counts its reorders. */
    final void run(Context c, int index) {
        StreamPool.Lease lease = backend.acquireStream();
        int n;
        try {
            n = c.bound[index].run(lease.stream());
        } finally {
            backend.release(lease);
        }
        if (n > 0) {
            reorders.add(n);
            backend.countReorders(n);
        }
    }

    private Context newContext() {
        synchronized (contextLock) {
            checkOpen();
            Context c = new Context();
            c.busy.set(true);
            Context[] grown = Arrays.copyOf(contexts, contexts.length + 1);
            grown[grown.length - 1] = c;
            contexts = grown;
            return c;
        }
    }

    /** The per-call state of every {@link DnnlCall} of this plan plus one scratchpad they share. */
    final class Context {
        private final AtomicBoolean busy = new AtomicBoolean();
        private final List<Dnnl.Handle> handles = new ArrayList<>();
        private final DnnlCall.Bound[] bound;

        private Context() {
            long scratchpadBytes = 0;
            for (DnnlCall c : calls) scratchpadBytes = Math.max(scratchpadBytes, c.scratchpadBytes());
            MemorySegment scratchpad = arena.allocate(Math.max(1, scratchpadBytes), ALIGNMENT);
            DnnlCall.Bound[] b = new DnnlCall.Bound[calls.size()];
            try {
                for (int i = 0; i < b.length; i++) b[i] = calls.get(i).bind(arena, scratchpad, handles);
            } catch (RuntimeException e) {
                closeHandles();
                throw e;
            }
            this.bound = b;
        }

        /** Call {@code index} bound in this context. */
        DnnlCall.Bound call(int index) { return bound[index]; }

        private boolean tryAcquire() { return !busy.get() && busy.compareAndSet(false, true); }

        private void release() { busy.set(false); }

        private void closeHandles() {
            for (int i = handles.size() - 1; i >= 0; i--) handles.get(i).close();
            handles.clear();
        }
    }

    /** Subclasses call this when construction fails half way, then rethrow. */
    final RuntimeException failed(RuntimeException e) {
        try {
            close();
        } catch (RuntimeException suppressed) {
            e.addSuppressed(suppressed);
        }
        return e;
    }

    /**
     * Refuses new calls and waits for those in flight, then destroys every context's memories,
     * the primitives and descriptors, and frees the arena. Idempotent; safe while other threads
     * execute the plan (they finish first, or fail with {@link IllegalStateException}).
     */
    @Override public void close() {
        lifetime.close();   // outside any lock: a call in flight may need contextLock to finish
        synchronized (contextLock) {
            if (closed) return;
            closed = true;
            freeNative();
        }
    }

    private void freeNative() {
        RuntimeException first = null;
        for (Context c : contexts) {
            try {
                c.closeHandles();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        contexts = new Context[0];
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        owned.clear();
        arena.close();
        backend.forget(this);
        if (first != null) throw first;
    }

    @Override public String toString() { return "dnnl " + name; }
}

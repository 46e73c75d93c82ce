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
abstract class DnnlOpPlan implements AutoCloseable, dev.isthmus.engine.MemoryFootprint, dev.isthmus.engine.ReorderReport {
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

    /** The backend's {@link dev.isthmus.engine.Layout} for a descriptor: plain, or its interned blocked layout. */
    final dev.isthmus.engine.Layout layoutOf(Dnnl.MemoryDesc md) { return backend.layoutOf(md); }

    /** The attribute every primitive and reorder of this plan is created with: user scratchpad mode. */
    final Dnnl.Attr attr() { return attr; }

    /** Registers a native object to destroy on close; returns it. */
    final <T extends Dnnl.Handle> T own(T handle) {
        owned.add(handle);
        return handle;
    }

    /**
     * The descriptor {@code create} makes, owned by this plan, when oneDNN has an optimized (not a
     * reference) implementation for it; else null (and nothing is left behind): callers then fall back
     * to oneDNN's own layout choice with a reorder at the boundary.
     */
    final Dnnl.PrimitiveDesc optimized(java.util.function.Supplier<Dnnl.PrimitiveDesc> create) {
        Dnnl.PrimitiveDesc pd;
        try {
            pd = create.get();
        } catch (DnnlException e) {
            return null;   // unimplemented for these layouts
        }
        if (pd.implementation().contains("ref")) {
            pd.close();
            return null;
        }
        return own(pd);
    }

    /** Adds a primitive call; its index in {@link Context#call} is the order of creation. */
    final DnnlCall call(String callName, Dnnl.PrimitiveDesc pd) {
        DnnlCall c = new DnnlCall(this, calls.size(), callName, pd);
        calls.add(c);
        return c;
    }

    /** Reorders this plan has executed, all threads together. */
    public final long reorderCount() { return reorders.sum(); }

    /** Execution contexts created so far: the largest number of concurrent calls seen. */
    final int contextCount() { return contexts.length; }

    @Override public final int contexts() { return contexts.length; }

    @Override public long planBytes() { return 0; }

    /** The scratchpad (the largest any call needs: calls of one context run one at a time) plus every call's reorder buffers. */
    @Override public final long contextBytes() {
        long buffers = 0;
        for (DnnlCall c : calls) buffers += c.bufferBytes();
        return scratchpadBytes() + buffers;
    }

    /** One scratchpad per context, shared by the calls: the largest any of them needs (at least 1 byte, as allocated). */
    @Override public final long scratchpadBytes() {
        long scratchpad = 0;
        for (DnnlCall c : calls) scratchpad = Math.max(scratchpad, c.scratchpadBytes());
        return Math.max(1, scratchpad);
    }

    /** The first call is the forward of the plan's propagation (training forward, or the only one of an inference plan). */
    @Override public int reordersPerForward() { return calls.isEmpty() ? 0 : calls.getFirst().reorderCount(); }

    /** The calls named backward*: what a training step runs after the forward; backward-weights only without an input gradient. */
    @Override public int reordersPerBackward(boolean inputGradient) {
        int n = 0;
        for (DnnlCall c : calls) {
            if (c.name().equals("backward-weights") || (inputGradient && c.name().startsWith("backward"))) n += c.reorderCount();
        }
        return n;
    }

    /** The implementations and layouts oneDNN chose; plans list theirs one line per primitive. */
    @Override public String layouts() { return name; }

    /** The calls, in order of creation (for tests and reports). */
    final List<DnnlCall> calls() { return List.copyOf(calls); }

    /** The primitives this plan runs, by call name ("forward", "backward-data", ...), in order of creation. */
    final java.util.List<String> callNames() {
        return calls.stream().map(DnnlCall::name).toList();
    }

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

    /** Runs {@code call} in context {@code c} on a leased stream and counts its reorders. */
    final void run(Context c, DnnlCall call) { run(c, call.index()); }

    /** Runs call {@code index} (in order of creation) of context {@code c} on a leased stream and counts its reorders. */
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

        /** {@code call} bound in this context. */
        DnnlCall.Bound call(DnnlCall call) { return bound[call.index()]; }

        /** Call {@code index}, in order of creation, bound in this context. */
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

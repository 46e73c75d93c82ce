package dev.isthmus.engine.simd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Per-call scratch owned by a plan: a call takes a set, uses it, and gives it back, so
 * concurrent calls of one plan never share scratch and steady state allocates nothing
 * (a second set is made only when two calls overlap). Everything made is freed on close.
 */
final class ScratchPool<T extends AutoCloseable> implements AutoCloseable {
    private final Supplier<T> factory;
    private final ArrayDeque<T> free = new ArrayDeque<>();
    private final List<T> all = new ArrayList<>();
    private boolean closed;

    ScratchPool(Supplier<T> factory) { this.factory = factory; }

    synchronized T take() {
        if (closed) throw new IllegalStateException("plan is closed");
        T t = free.poll();
        if (t == null) {
            t = factory.get();
            all.add(t);
        }
        return t;
    }

    synchronized void give(T t) {
        if (closed) {
            closeQuietly(t);
        } else {
            free.push(t);
        }
    }

    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        for (T t : free) closeQuietly(t);   // sets still in use are closed when given back
        all.clear();
        free.clear();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.isthmus.engine.opencl;

import java.util.ArrayList;
import java.util.List;

/**
 * What every OpenCL plan shares: its backend, its name for messages, and the kernels and
 * buffers it owns (created at planning time, released on close). Subclasses launch with
 * {@code synchronized (backend.lock())} around setting tensor arguments and enqueueing.
 */
abstract class OpenClPlan implements AutoCloseable {
    final OpenClBackend backend;
    final String op;
    private final List<Cl.Handle> owned = new ArrayList<>();
    private volatile boolean closed;

    OpenClPlan(OpenClBackend backend, String op) {
        backend.checkOpen();
        this.backend = backend;
        this.op = op;
    }

    /** A kernel of {@code family}'s program, owned by this plan. */
    final Cl.Kernel kernel(String family, String name) {
        return own(Cl.Kernel.create(backend.program(family), name));
    }

    /** A device buffer of {@code bytes} owned by this plan (scratch, results). */
    final Cl.Buffer buffer(long bytes) {
        return own(Cl.Buffer.create(backend.context(), bytes));
    }

    private <H extends Cl.Handle> H own(H handle) {
        owned.add(handle);
        return handle;
    }

    /** Throws once the plan or its backend is closed; call at every entry point. */
    final void checkOpen() {
        if (closed) throw new IllegalStateException(op + " is closed");
        backend.checkOpen();
    }

    @Override public void close() {
        synchronized (backend.lock()) {
            if (closed) return;
            closed = true;
            for (int i = owned.size() - 1; i >= 0; i--) owned.get(i).close();
            owned.clear();
        }
        backend.forget(this);
    }

    @Override public String toString() { return op; }
}

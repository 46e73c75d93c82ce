package dev.isthmus.engine.dnnl;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The oneDNN streams of one backend, leased per execution instead of bound to threads.
 *
 * <p>A {@code dnnl_stream_t} must not be used by two executions at once, but it is not tied to the
 * thread that created it. Binding one to each calling thread (a {@code ThreadLocal}) kept one
 * native stream per thread that ever called, until the backend closed: 2,000 short-lived virtual
 * threads left 2,000 streams. Here the pool grows only to the largest number of executions that
 * ran at the same time; acquiring is a scan with compare-and-set and releasing a volatile write,
 * so neither allocates on the Java heap once the pool has grown.
 */
final class StreamPool implements AutoCloseable {
    /** One stream and whether an execution holds it. */
    static final class Lease {
        private final Dnnl.Stream stream;
        private final AtomicBoolean busy = new AtomicBoolean(true);

        private Lease(Dnnl.Stream stream) { this.stream = stream; }

        Dnnl.Stream stream() { return stream; }

        private boolean tryAcquire() { return !busy.get() && busy.compareAndSet(false, true); }
    }

    private final Dnnl.Engine engine;
    private volatile Lease[] leases = new Lease[0];
    private boolean closed;   // guarded by this

    StreamPool(Dnnl.Engine engine) { this.engine = engine; }

    /** A free stream, or a new one when every stream is in use. */
    Lease acquire() {
        for (Lease l : leases) {
            if (l.tryAcquire()) return l;
        }
        return grow();
    }

    void release(Lease lease) { lease.busy.set(false); }

    /** Streams created so far. */
    int size() { return leases.length; }

    private synchronized Lease grow() {
        if (closed) throw new IllegalStateException("the dnnl backend is closed");
        Lease l = new Lease(new Dnnl.Stream(engine));   // created busy: it is this caller's
        Lease[] grown = Arrays.copyOf(leases, leases.length + 1);
        grown[grown.length - 1] = l;
        leases = grown;
        return l;
    }

    /** Destroys every stream. Executions must have finished: the backend closes its plans first. */
    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Lease l : leases) l.stream.close();
        leases = new Lease[0];
    }
}

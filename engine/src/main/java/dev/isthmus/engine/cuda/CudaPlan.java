package dev.isthmus.engine.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * What every CUDA plan shares: its backend, its name for messages, and the device memory it owns
 * (allocated at planning time, freed on close). Subclasses set tensor arguments and launch with
 * {@code synchronized (backend.lock())} around both.
 */
abstract class CudaPlan implements AutoCloseable {
    final CudaBackend backend;
    final String op;
    private final List<Long> buffers = new ArrayList<>();   // CUdeviceptr values
    private volatile boolean closed;

    CudaPlan(CudaBackend backend, String op) {
        backend.checkOpen();
        this.backend = backend;
        this.op = op;
    }

    /** A launch site of {@code family}'s module taking {@code arguments} arguments. */
    final Cu.Kernel kernel(String family, String entry, int arguments) {
        return backend.kernel(family, entry, arguments);
    }

    /** Device memory of {@code bytes} owned by this plan (scratch, results). */
    final long buffer(long bytes) {
        long pointer = backend.buffer(bytes);
        buffers.add(pointer);
        return pointer;
    }

    /** Throws once the plan or its backend is closed; call at every entry point. */
    final void checkOpen() {
        if (closed) throw new IllegalStateException(op + " is closed");
        backend.checkOpen();
    }

    /** Launches {@code kernel}; throws if this plan was closed meanwhile. Hold the backend's lock. */
    final void launch(Cu.Kernel kernel) {
        checkOpen();
        backend.launch(kernel);
    }

    @Override public void close() {
        synchronized (backend.lock()) {
            if (closed) return;
            closed = true;
            for (int i = buffers.size() - 1; i >= 0; i--) backend.freeBuffer(buffers.get(i));
            buffers.clear();
        }
        backend.forget(this);
    }

    @Override public String toString() { return op; }
}

package dev.isthmus.engine.cuda;

import dev.isthmus.bindings.cuda.cuda_h;
import dev.isthmus.engine.Device;
import dev.isthmus.engine.Storage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A tensor's memory on a CUDA device: one {@code cuMemAlloc} allocation in the backend's context.
 * Views are (this allocation, byte offset) pairs kept by {@link dev.isthmus.engine.Tensor}; a
 * kernel gets the base pointer plus the byte offset. Copies are the synchronous
 * {@code cuMemcpyHtoD}/{@code cuMemcpyDtoH} on the default stream, so they see every kernel
 * launched before them.
 *
 * <p>When the backend closes it frees every storage still open: copies throw from then on, and
 * closing the storage does nothing more.
 */
public final class CudaStorage implements Storage {
    private final CudaBackend backend;
    private final long pointer;   // CUdeviceptr
    private final long byteSize;
    private boolean freed;        // guarded by backend.lock()

    CudaStorage(CudaBackend backend, long pointer, long byteSize) {
        this.backend = backend;
        this.pointer = pointer;
        this.byteSize = byteSize;
    }

    @Override public Device device() { return backend.device(); }

    @Override public long byteSize() { return byteSize; }

    CudaBackend backend() { return backend; }

    /** The device address, for kernel arguments; throws once freed. Hold the backend's lock. */
    long pointer() {
        if (freed) throw new IllegalStateException("storage of " + byteSize + " bytes on " + device() + " is closed");
        return pointer;
    }

    @Override public void copyIn(long offset, MemorySegment src) {
        checkRange(offset, src.byteSize());
        if (src.byteSize() == 0) return;
        if (src.isNative()) {
            write(offset, src);
        } else {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment tmp = a.allocate(src.byteSize(), 64);
                tmp.copyFrom(src);
                write(offset, tmp);
            }
        }
    }

    @Override public void copyOut(long offset, MemorySegment dst) {
        checkRange(offset, dst.byteSize());
        if (dst.byteSize() == 0) return;
        if (dst.isNative()) {
            read(offset, dst);
        } else {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment tmp = a.allocate(dst.byteSize(), 64);
                read(offset, tmp);
                dst.copyFrom(tmp);
            }
        }
    }

    private void write(long offset, MemorySegment src) {
        synchronized (backend.lock()) {
            backend.checkOpen();
            long p = pointer();
            backend.bind();
            Cu.check(cuda_h.cuMemcpyHtoD_v2(p + offset, src, src.byteSize()), "cuMemcpyHtoD_v2", bytes(offset, src.byteSize()));
        }
    }

    private void read(long offset, MemorySegment dst) {
        synchronized (backend.lock()) {
            backend.checkOpen();
            long p = pointer();
            backend.bind();
            Cu.check(cuda_h.cuMemcpyDtoH_v2(dst, p + offset, dst.byteSize()), "cuMemcpyDtoH_v2", bytes(offset, dst.byteSize()));
        }
    }

    private String bytes(long offset, long size) {
        return size + " bytes at " + offset + " of " + byteSize + " on " + device();
    }

    private void checkRange(long offset, long size) {
        if (offset < 0 || size < 0 || offset + size > byteSize) {
            throw new IllegalArgumentException("copy of " + size + " bytes at " + offset + " outside a storage of "
                    + byteSize + " bytes on " + device());
        }
    }

    /** Frees the memory unless the backend already did. Idempotent. */
    @Override public void close() {
        synchronized (backend.lock()) {
            if (freed) return;
            release();
        }
        backend.forget(this);
    }

    /** Frees the memory now; for the backend's close. Hold the backend's lock. */
    void release() {
        if (freed) return;
        freed = true;
        backend.bind();
        Cu.free(pointer);
    }

    @Override public String toString() { return "CudaStorage(" + byteSize + " bytes on " + device() + ")"; }
}

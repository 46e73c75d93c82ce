package dev.isthmus.engine.opencl;

import dev.isthmus.engine.Device;
import dev.isthmus.engine.Storage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A tensor's memory on an OpenCL device: one {@code cl_mem} buffer of the backend's context.
 * Views are (this buffer, byte offset) pairs kept by {@link dev.isthmus.engine.Tensor}; kernels
 * take the base buffer plus an element offset, so no sub-buffers (and none of their alignment
 * rules) are involved. Copies are blocking reads and writes on the backend's in-order queue,
 * so they see every kernel enqueued before them.
 *
 * <p>After the backend closes, copies throw; closing the storage still releases the buffer
 * (a {@code cl_mem} keeps its context alive until it is released).
 */
public final class OpenClStorage implements Storage {
    private final OpenClBackend backend;
    private final Cl.Buffer buffer;

    OpenClStorage(OpenClBackend backend, Cl.Buffer buffer) {
        this.backend = backend;
        this.buffer = buffer;
    }

    @Override public Device device() { return backend.device(); }

    @Override public long byteSize() { return buffer.byteSize; }

    OpenClBackend backend() { return backend; }

    /** The buffer, for kernel arguments; throws once closed. */
    Cl.Buffer buffer() {
        if (buffer.isClosed()) throw new IllegalStateException("storage on " + device() + " is closed");
        return buffer;
    }

    @Override public void copyIn(long offset, MemorySegment src) {
        checkRange(offset, src.byteSize());
        if (src.byteSize() == 0) return;
        if (src.isNative()) {
            backend.queue().write(buffer(), offset, src);
        } else {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment tmp = a.allocate(src.byteSize(), 64);
                tmp.copyFrom(src);
                backend.queue().write(buffer(), offset, tmp);
            }
        }
    }

    @Override public void copyOut(long offset, MemorySegment dst) {
        checkRange(offset, dst.byteSize());
        if (dst.byteSize() == 0) return;
        if (dst.isNative()) {
            backend.queue().read(buffer(), offset, dst);
        } else {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment tmp = a.allocate(dst.byteSize(), 64);
                backend.queue().read(buffer(), offset, tmp);
                dst.copyFrom(tmp);
            }
        }
    }

    private void checkRange(long offset, long size) {
        if (offset < 0 || size < 0 || offset + size > buffer.byteSize) {
            throw new IllegalArgumentException("copy of " + size + " bytes at " + offset + " outside a storage of "
                    + buffer.byteSize + " bytes on " + device());
        }
    }

    @Override public void close() { buffer.close(); }

    @Override public String toString() { return "OpenClStorage(" + buffer.byteSize + " bytes on " + device() + ")"; }
}

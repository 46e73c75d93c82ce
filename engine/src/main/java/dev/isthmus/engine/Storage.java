package dev.isthmus.engine;

import java.lang.foreign.MemorySegment;

/**
 * The memory behind one or more tensors: host memory for CPU backends, a device
 * buffer for GPU backends. A {@link Tensor} owns its storage or is a view into
 * another tensor's; the storage is freed exactly once, by its owner's close.
 */
public interface Storage extends AutoCloseable {
    Device device();

    long byteSize();

    /** Copies {@code src.byteSize()} bytes from host memory to {@code [offset, offset + size)}. */
    void copyIn(long offset, MemorySegment src);

    /** Copies {@code dst.byteSize()} bytes from {@code [offset, offset + size)} to host memory. */
    void copyOut(long offset, MemorySegment dst);

    /** The host memory itself; only for storages on the CPU. */
    default MemorySegment hostSegment() {
        throw new UnsupportedOperationException("storage on " + device() + " has no host segment; copy it out");
    }

    @Override void close();
}

package dev.isthmus.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Host memory from an arena. A shared arena per storage, so a tensor may be used
 * and closed from any thread (the trainer's prefetch thread writes batches that
 * the main thread reads); the storage closes the arena only if it created it.
 */
final class HostStorage implements Storage {
    /** 64 bytes: one cache line and one AVX-512 register, as oneDNN prefers. */
    static final long ALIGNMENT = 64;

    private final Arena ownedArena;   // null when the memory belongs to someone else
    private final MemorySegment segment;

    private HostStorage(Arena ownedArena, MemorySegment segment) {
        this.ownedArena = ownedArena;
        this.segment = segment;
    }

    static HostStorage allocate(long bytes) {
        Arena arena = Arena.ofShared();
        return new HostStorage(arena, arena.allocate(Math.max(bytes, 1), ALIGNMENT));
    }

    static HostStorage allocate(Arena arena, long bytes) {
        return new HostStorage(null, arena.allocate(Math.max(bytes, 1), ALIGNMENT));
    }

    static HostStorage wrap(MemorySegment segment) {
        if (!segment.isNative()) throw new IllegalArgumentException("tensors need native memory, got a heap segment");
        return new HostStorage(null, segment);
    }

    @Override public Device device() { return Device.CPU; }

    @Override public long byteSize() { return segment.byteSize(); }

    @Override public void copyIn(long offset, MemorySegment src) {
        MemorySegment.copy(src, 0, segment, offset, src.byteSize());
    }

    @Override public void copyOut(long offset, MemorySegment dst) {
        MemorySegment.copy(segment, offset, dst, 0, dst.byteSize());
    }

    @Override public MemorySegment hostSegment() { return segment; }

    @Override public void close() {
        if (ownedArena != null) ownedArena.close();
    }
}

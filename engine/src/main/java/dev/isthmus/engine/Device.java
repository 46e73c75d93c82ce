package dev.isthmus.engine;

/**
 * Where a tensor's memory lives. {@link #CPU} is host memory (a native
 * {@code MemorySegment}); GPU backends name their device by platform and index.
 */
public record Device(Kind kind, int index, String name) {
    public enum Kind { CPU, OPENCL, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0, "cpu");

    public boolean isHost() { return kind == Kind.CPU; }

    @Override public String toString() { return kind == Kind.CPU ? "cpu" : name + ":" + index; }
}

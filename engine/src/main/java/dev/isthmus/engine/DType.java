package dev.isthmus.engine;

/**
 * Element types a {@link Tensor} can hold. Activations and parameters are {@code F32};
 * {@code S32} carries class labels and pooling indices, {@code U8} opaque workspaces
 * (oneDNN's max-pooling workspace has a format of its own).
 */
public enum DType {
    F32(4), S32(4), U8(1);

    private final int byteSize;

    DType(int byteSize) { this.byteSize = byteSize; }

    /** Bytes per element. */
    public int byteSize() { return byteSize; }
}

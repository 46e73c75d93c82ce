package dev.isthmus.engine;

/**
 * Local response normalisation planned once. Like max pooling, a training forward may keep
 * backend-specific intermediate values (oneDNN's workspace) that its backward reads; callers
 * allocate {@link #workspaceBytes()} bytes ({@link DType#U8}) and never look inside.
 */
public interface LrnPlan extends AutoCloseable {
    LrnSpec spec();

    /** Bytes of workspace a training forward needs (may be 0). */
    long workspaceBytes();

    void forwardTraining(Tensor dst, Tensor workspace, Tensor src);

    void forwardInference(Tensor dst, Tensor src);

    /** diffSrc from diffDst, the forward's src and its workspace. */
    void backward(Tensor diffSrc, Tensor diffDst, Tensor src, Tensor workspace);

    /** The layout the forward writes dst in without a reorder ({@link Layout#PLAIN} on backends without their own). */
    default Layout dstLayout() { return Layout.PLAIN; }

    /** The layout the forward reads src in without a reorder. */
    default Layout srcLayout() { return Layout.PLAIN; }

    @Override void close();
}

package dev.isthmus.engine;

/**
 * Pooling planned once for its {@link Pool2dSpec}. Max pooling remembers where each
 * maximum came from in a workspace that the training forward writes and the backward
 * reads; its format belongs to the backend, so callers allocate {@link #workspaceBytes()}
 * bytes ({@link DType#U8}) and never look inside. Inference needs no workspace.
 */
public interface Pool2dPlan extends AutoCloseable {
    Pool2dSpec spec();

    /** Bytes of workspace a training forward needs; 0 for average pooling. */
    long workspaceBytes();

    /** The forward pass of a training step; {@code workspace} is null iff workspaceBytes() is 0. */
    void forwardTraining(Tensor dst, Tensor workspace, Tensor src);

    /** The forward pass for inference: no workspace. */
    void forwardInference(Tensor dst, Tensor src);

    /** diffSrc from diffDst and the workspace of the matching training forward. */
    void backward(Tensor diffSrc, Tensor diffDst, Tensor workspace);

    /** The layout the forward writes dst in without a reorder ({@link Layout#PLAIN} on backends without their own). */
    default Layout dstLayout() { return Layout.PLAIN; }

    /** The layout the forward reads src in without a reorder. */
    default Layout srcLayout() { return Layout.PLAIN; }

    @Override void close();
}

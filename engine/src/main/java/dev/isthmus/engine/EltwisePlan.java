package dev.isthmus.engine;

/** An element-wise activation over a fixed number of elements, any shape. */
public interface EltwisePlan extends AutoCloseable {
    EltwiseKind kind();

    long elements();

    /** dst = f(src); dst may be src (in place). */
    void forward(Tensor dst, Tensor src);

    /** diffSrc = diffDst * f'(x), computed from the forward's output dst; diffSrc may be diffDst. */
    void backward(Tensor diffSrc, Tensor diffDst, Tensor dst);

    @Override void close();
}

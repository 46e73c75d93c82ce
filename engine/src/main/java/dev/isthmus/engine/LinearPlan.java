package dev.isthmus.engine;

/** A fully connected layer planned once; same argument order and write semantics as {@link Conv2dPlan}. */
public interface LinearPlan extends AutoCloseable {
    LinearSpec spec();

    /** dst = src . weights^T + bias; src may have any shape with (N, IC) elements. */
    void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias);

    void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights);

    void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src);

    /** The layout the forward writes dst in without a reorder ({@link Layout#PLAIN} on backends without their own). */
    default Layout dstLayout() { return Layout.PLAIN; }

    /** The layout the forward reads src in without a reorder. */
    default Layout srcLayout() { return Layout.PLAIN; }

    /** The layout the forward reads weights in without a reorder. */
    default Layout weightsLayout() { return Layout.PLAIN; }

    @Override void close();
}

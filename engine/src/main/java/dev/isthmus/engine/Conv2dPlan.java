package dev.isthmus.engine;

/**
 * A convolution planned once for its {@link Conv2dSpec} and executed many times.
 * The plan owns whatever the backend needs (primitives, scratch memory); executing
 * allocates nothing and may happen on several threads at once with different tensors.
 *
 * <p>Arguments come in one order: outputs, inputs, weights. Backward passes write
 * (they do not accumulate): accumulation across steps is the caller's business.
 */
public interface Conv2dPlan extends AutoCloseable {
    Conv2dSpec spec();

    /**
     * dst = conv(src, weights) + bias, then the spec's fused activation if it has one;
     * {@code bias} is null iff the spec has no bias.
     */
    void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias);

    /**
     * With a fused activation f: diffPre = diffDst * f'(x), computed from the forward's output
     * {@code dst} = f(x); diffPre may be diffDst. It turns the gradient with respect to the plan's
     * output into the gradient with respect to the convolution's own output, which is what
     * {@link #backwardData} and {@link #backwardWeights} take: call it first. Throws
     * {@link IllegalStateException} when the spec has no activation.
     */
    void backwardActivation(Tensor diffPre, Tensor diffDst, Tensor dst);

    /** diffSrc = the gradient of the loss with respect to src, from diffDst before any activation. */
    void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights);

    /** diffWeights and diffBias (null iff no bias) from diffDst and the forward's src. */
    void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src);

    /** The layout the forward writes dst in without a reorder ({@link Layout#PLAIN} on backends without their own). */
    default Layout dstLayout() { return Layout.PLAIN; }

    /** The layout the forward reads src in without a reorder. */
    default Layout srcLayout() { return Layout.PLAIN; }

    /** The layout the forward reads weights in without a reorder: weights kept in it are not reordered per call. */
    default Layout weightsLayout() { return Layout.PLAIN; }

    @Override void close();
}

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

    /** dst = conv(src, weights) + bias; {@code bias} is null iff the spec has no bias. */
    void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias);

    /** diffSrc = the gradient of the loss with respect to src. */
    void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights);

    /** diffWeights and diffBias (null iff no bias) from diffDst and the forward's src. */
    void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src);

    @Override void close();
}

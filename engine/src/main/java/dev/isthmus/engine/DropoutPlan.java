package dev.isthmus.engine;

/**
 * Inverted dropout (Srivastava et al. 2014; torch.nn.Dropout): in training each element is
 * zeroed with probability p and the survivors are scaled by 1/(1-p), so inference is the
 * identity. The mask is a pure function of (seed, element index): a counter-based generator,
 * so a step is reproducible on any backend and thread count. It is kept as one byte per
 * element ({@link DType#U8}, 1 = kept) for the backward.
 */
public interface DropoutPlan extends AutoCloseable {
    long elements();

    float probability();

    /** dst = src * mask / (1 - p) with mask drawn from {@code seed}; writes the mask. */
    void forwardTraining(Tensor dst, Tensor mask, Tensor src, long seed);

    /** diffSrc = diffDst * mask / (1 - p). */
    void backward(Tensor diffSrc, Tensor diffDst, Tensor mask);

    @Override void close();

    /**
     * Whether element {@code i} survives for {@code seed}: the specification every backend
     * follows. SplitMix64's finaliser over (seed, i) gives a uniform 32-bit value, compared
     * with the threshold (1 - p) * 2^32.
     */
    static boolean keep(long seed, long i, float p) {
        long z = seed * 0x9E3779B97F4A7C15L + (i + 1) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        long u = z >>> 32;                       // uniform in [0, 2^32)
        return u < (long) ((1.0 - p) * 4294967296.0);
    }
}

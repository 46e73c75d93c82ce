package dev.isthmus.nn;

import java.util.SplittableRandom;

/**
 * Weight initialisation schemes, seeded. Fan-in is the number of inputs feeding one
 * output unit (IC/G * KH * KW for a convolution, IC for a linear layer); fan-out likewise.
 */
@FunctionalInterface
public interface Initializer {
    /** Fills {@code values} for a tensor with the given fans. */
    void fill(float[] values, int fanIn, int fanOut, SplittableRandom random);

    /** LeCun et al. 1998 (appendix A): uniform in (-2.4 / fanIn, 2.4 / fanIn). */
    static Initializer lecunUniform() {
        return (v, fanIn, fanOut, r) -> uniform(v, 2.4 / fanIn, r);
    }

    /** Glorot and Bengio 2010: uniform in +-sqrt(6 / (fanIn + fanOut)). */
    static Initializer glorotUniform() {
        return (v, fanIn, fanOut, r) -> uniform(v, Math.sqrt(6.0 / (fanIn + fanOut)), r);
    }

    /** He et al. 2015, for ReLU: normal with std sqrt(2 / fanIn). */
    static Initializer heNormal() {
        return (v, fanIn, fanOut, r) -> normal(v, Math.sqrt(2.0 / fanIn), r);
    }

    /** PyTorch's default for Conv2d and Linear weights and biases: uniform in +-1/sqrt(fanIn). */
    static Initializer pytorchDefault() {
        return (v, fanIn, fanOut, r) -> uniform(v, 1.0 / Math.sqrt(fanIn), r);
    }

    /** Zero-mean Gaussian with the given standard deviation (AlexNet: 0.01). */
    static Initializer normal(double std) {
        return (v, fanIn, fanOut, r) -> normal(v, std, r);
    }

    static Initializer constant(float c) {
        return (v, fanIn, fanOut, r) -> java.util.Arrays.fill(v, c);
    }

    static Initializer zeros() {
        return constant(0f);
    }

    private static void uniform(float[] v, double bound, SplittableRandom r) {
        for (int i = 0; i < v.length; i++) v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
    }

    private static void normal(float[] v, double std, SplittableRandom r) {
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * std);
    }
}

package dev.isthmus.engine.testing;

import java.util.Random;

import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * Seeded test data: random host tensors, values without ties, class labels. Every method
 * takes its seed, so a failing test reproduces; use one seed per tensor.
 * Host tensors only; copy them to a device backend with {@link Tensor#copyTo}.
 */
public final class TestTensors {
    private TestTensors() {}

    /** The sizes that hit every vector tail: 1, 7, 15, 17, 33, 1023. */
    public static final int[] AWKWARD_SIZES = {1, 7, 15, 17, 33, 1023};

    /** n floats uniform in [lo, hi). */
    public static float[] uniform(long seed, int n, float lo, float hi) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = lo + (hi - lo) * random.nextFloat();
        return values;
    }

    /** A float32 host tensor uniform in [lo, hi). */
    public static Tensor uniform(long seed, float lo, float hi, int... dims) {
        return Tensor.of(uniform(seed, Math.toIntExact(Shape.of(dims).elements()), lo, hi), dims);
    }

    /**
     * n distinct floats at least {@code gap} apart and away from 0 by at least gap / 2: a
     * shuffled ladder (i - n/2 + 0.5) gap plus a jitter below gap / 4. For max pooling
     * (no ties) and ReLU (no kinks) under finite differences with a step below gap / 4.
     */
    public static float[] distinct(long seed, int n, float gap) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) ((i - n / 2 + 0.5) * gap + (random.nextDouble() - 0.5) * gap / 4);
        }
        for (int i = n - 1; i > 0; i--) {   // Fisher-Yates
            int j = random.nextInt(i + 1);
            float t = values[i]; values[i] = values[j]; values[j] = t;
        }
        return values;
    }

    /** A float32 host tensor of {@link #distinct} values. */
    public static Tensor distinct(long seed, float gap, int... dims) {
        return Tensor.of(distinct(seed, Math.toIntExact(Shape.of(dims).elements()), gap), dims);
    }

    /** An int32 host tensor (batch) of labels uniform in [0, classes). */
    public static Tensor labels(long seed, int batch, int classes) {
        Random random = new Random(seed);
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = random.nextInt(classes);
        return Tensor.ofInts(labels);
    }
}

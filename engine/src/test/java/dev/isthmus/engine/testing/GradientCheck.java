package dev.isthmus.engine.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import java.util.function.ToDoubleFunction;

import dev.isthmus.engine.Tensor;

/**
 * Checks an analytic gradient against central finite differences, for any backend's plans.
 *
 * <p>The caller supplies a scalar function of a tensor, typically "run the forward, then
 * project the output onto fixed random weights r": {@code L(x) = sum_i r_i y_i(x)}, whose
 * gradient is what the backward computes when it is handed {@code diffDst = r}. The checker
 * perturbs single elements of {@code x} in place (through {@code toFloatArray}/{@code copyFrom},
 * so device tensors work), evaluates {@code (L(x + h e_i) - L(x - h e_i)) / (2h)} and restores
 * {@code x}. The step actually taken is measured after float rounding.
 *
 * <pre>
 *   float[] r = TestTensors.uniform(7, dst.elements(), -1, 1);
 *   plan.backwardData(diffSrc, Tensor.of(r, dims), weights);
 *   GradientCheck.check("conv diffSrc", src, s -> { plan.forward(dst, s, weights, bias); return GradientCheck.dot(dst, r); },
 *           diffSrc.toFloatArray(), 1e-2, 1e-3, 1e-3);
 * </pre>
 *
 * Forward passes run in float, so use a step near 1e-2 on O(1) values and tolerances near
 * 1e-3; inputs of non-smooth ops (max pooling, ReLU) should stay farther than the step from
 * a tie or a kink ({@link TestTensors#distinct}).
 */
public final class GradientCheck {
    private GradientCheck() {}

    /** At most this many elements are probed by default (chosen at random, seeded). */
    public static final int DEFAULT_PROBES = 256;

    /** Checks every element if there are at most {@link #DEFAULT_PROBES}, else a seeded sample. */
    public static void check(String what, Tensor x, ToDoubleFunction<Tensor> loss, float[] analytic,
                             double step, double absTol, double relTol) {
        check(what, x, loss, analytic, step, absTol, relTol, DEFAULT_PROBES, 1234);
    }

    /**
     * Fails unless |numeric - analytic| <= absTol + relTol max(|numeric|, |analytic|) at every probed element,
     * printing the first failures side by side and the max difference.
     */
    public static void check(String what, Tensor x, ToDoubleFunction<Tensor> loss, float[] analytic,
                             double step, double absTol, double relTol, int maxProbes, long seed) {
        if (analytic.length != x.elements()) {
            fail(what + ": analytic gradient has " + analytic.length + " values, x has " + x.elements());
        }
        int[] probes = probes(analytic.length, maxProbes, seed);
        double[] numeric = numericGradient(x, loss, step, probes);
        int bad = 0;
        double maxDiff = 0;
        int maxAt = -1;
        StringBuilder rows = new StringBuilder();
        for (int k = 0; k < probes.length; k++) {
            int i = probes[k];
            double a = analytic[i], n = numeric[k];
            double d = Math.abs(a - n);
            if (Double.isNaN(d)) d = Double.POSITIVE_INFINITY;
            if (d > maxDiff) { maxDiff = d; maxAt = i; }
            if (d > absTol + relTol * Math.max(Math.abs(a), Math.abs(n))) {
                if (bad < 10) rows.append(String.format("%10d  %16.9g  %16.9g  %12.4e%n", i, n, a, a - n));
                bad++;
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + probes.length + " probed gradient elements differ from central differences"
                    + " (step " + step + ", |n - a| > " + absTol + " + " + relTol + " max(|n|, |a|)); max |diff| " + maxDiff
                    + " at [" + maxAt + "]\n" + String.format("%10s  %16s  %16s  %12s%n", "index", "numeric", "analytic", "diff")
                    + rows);
        }
    }

    /**
     * Central differences of {@code loss} at the given element indices of {@code x};
     * {@code x} is restored afterwards.
     */
    public static double[] numericGradient(Tensor x, ToDoubleFunction<Tensor> loss, double step, int[] indices) {
        float[] values = x.toFloatArray();
        double[] gradient = new double[indices.length];
        try {
            for (int k = 0; k < indices.length; k++) {
                int i = indices[k];
                float original = values[i];
                float plus = (float) (original + step), minus = (float) (original - step);
                values[i] = plus;
                x.copyFrom(values);
                double lossPlus = loss.applyAsDouble(x);
                values[i] = minus;
                x.copyFrom(values);
                double lossMinus = loss.applyAsDouble(x);
                values[i] = original;
                gradient[k] = (lossPlus - lossMinus) / ((double) plus - minus);
            }
        } finally {
            x.copyFrom(values);
        }
        return gradient;
    }

    /** sum_i r_i t_i in double: the projection that turns an op's output into a scalar loss. */
    public static double dot(Tensor t, float[] r) {
        float[] v = t.toFloatArray();
        if (v.length != r.length) throw new IllegalArgumentException(t.shape() + " has " + v.length + " values, r has " + r.length);
        double sum = 0;
        for (int i = 0; i < v.length; i++) sum += (double) v[i] * r[i];
        return sum;
    }

    /** All indices when n <= maxProbes, else maxProbes distinct seeded indices in increasing order. */
    static int[] probes(int n, int maxProbes, long seed) {
        if (n <= maxProbes) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            return all;
        }
        Random random = new Random(seed);
        boolean[] taken = new boolean[n];
        int[] chosen = new int[maxProbes];
        for (int k = 0; k < maxProbes; ) {
            int i = random.nextInt(n);
            if (!taken[i]) { taken[i] = true; k++; }
        }
        for (int i = 0, k = 0; i < n; i++) if (taken[i]) chosen[k++] = i;
        return chosen;
    }
}

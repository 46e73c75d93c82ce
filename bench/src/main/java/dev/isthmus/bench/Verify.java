package dev.isthmus.bench;

import java.util.Locale;
import java.util.SplittableRandom;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * The benchmarks' self-checks: seeded data, and comparisons that print their figure and throw
 * before anything is measured when a result is off. Not a test framework: the engine's
 * tests are the real checks; these only keep a benchmark from timing a wrong answer.
 */
final class Verify {
    private Verify() {}

    /** A float32 tensor on {@code backend} uniform in [lo, hi), from {@code seed}. */
    static Tensor uniform(Backend backend, Shape shape, long seed, float lo, float hi) {
        Tensor t = backend.allocate(shape, DType.F32);
        t.copyFrom(uniform(seed, Math.toIntExact(shape.elements()), lo, hi));
        return t;
    }

    static float[] uniform(long seed, int n, float lo, float hi) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = lo + (hi - lo) * (float) random.nextDouble();
        return values;
    }

    /** An int32 tensor on {@code backend} of {@code n} labels uniform in [0, classes), from {@code seed}. */
    static Tensor labels(Backend backend, int n, int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = random.nextInt(classes);
        Tensor t = backend.allocate(Shape.of(n), DType.S32);
        t.copyFrom(labels);
        return t;
    }

    /**
     * max |actual - expected| / max |expected|: the error relative to the largest expected
     * value, which stays meaningful where single expected values are near zero. NaN if any
     * value is NaN or the lengths differ.
     */
    static double maxRelativeDifference(float[] expected, float[] actual) {
        if (expected.length != actual.length) return Double.NaN;
        double maxDiff = 0, maxExpected = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(diff)) return Double.NaN;
            maxDiff = Math.max(maxDiff, diff);
            maxExpected = Math.max(maxExpected, Math.abs(expected[i]));
        }
        return maxExpected == 0 ? maxDiff : maxDiff / maxExpected;
    }

    /**
     * Prints "check WHAT: max relative difference R (tolerance T)" and throws
     * {@link IllegalStateException} with the worst values side by side if R > tolerance or NaN.
     */
    static void requireClose(String what, float[] expected, float[] actual, double tolerance) {
        double r = maxRelativeDifference(expected, actual);
        System.out.printf(Locale.ROOT, "check %s: max relative difference %.3e over %d values (tolerance %.0e)%n",
                what, r, expected.length, tolerance);
        if (r <= tolerance) return;
        StringBuilder sb = new StringBuilder();
        sb.append(what).append(": max |actual - expected| / max |expected| = ").append(r)
                .append(" exceeds ").append(tolerance);
        if (expected.length != actual.length) {
            sb.append(" (expected ").append(expected.length).append(" values, got ").append(actual.length).append(')');
        } else {
            int worst = 0;
            double worstDiff = -1;
            for (int i = 0; i < expected.length; i++) {
                double diff = Math.abs((double) actual[i] - expected[i]);
                if (Double.isNaN(diff)) diff = Double.POSITIVE_INFINITY;
                if (diff > worstDiff) {
                    worstDiff = diff;
                    worst = i;
                }
            }
            sb.append(String.format(Locale.ROOT, "%n%10s  %16s  %16s%n", "index", "expected", "actual"));
            for (int i = Math.max(0, worst - 2); i < Math.min(expected.length, worst + 3); i++) {
                sb.append(String.format(Locale.ROOT, "%10d  %16.9g  %16.9g%s%n", i, expected[i], actual[i],
                        i == worst ? "   (worst)" : ""));
            }
        }
        throw new IllegalStateException(sb.toString());
    }

    /** Throws unless {@code value} is finite; {@code what} names it. */
    static float requireFinite(String what, float value) {
        if (!Float.isFinite(value)) throw new IllegalStateException(what + " is " + value + ", expected a finite value");
        return value;
    }

    /** The samples {@code indices} of an (N, ...) tensor, one after another, as a host array. */
    static float[] samples(Tensor t, int... indices) {
        Shape sample = t.shape().dropFirst();
        int per = Math.toIntExact(sample.elements());
        float[] out = new float[per * indices.length];
        for (int j = 0; j < indices.length; j++) {
            float[] one = t.view((long) indices[j] * per, sample).toFloatArray();
            System.arraycopy(one, 0, out, j * per, per);
        }
        return out;
    }
}

package dev.isthmus.engine.testing;

import static org.junit.jupiter.api.Assertions.fail;

import dev.isthmus.engine.Tensor;

/**
 * Assertions on float arrays and tensors that say what went wrong: on failure, the message
 * names the comparison, counts the bad elements, gives the max absolute difference and
 * where, and lists the first differing values side by side:
 *
 * <pre>
 *   conv forward: 3 of 1024 elements differ (|e - a| > 1.0E-5 + 1.0E-4 |e|); max |diff| 2.1E-3 at [517]
 *      index        expected          actual            diff
 *        517      0.41739535      0.41530000     -2.0953E-3
 * </pre>
 *
 * Tensors are read with {@link Tensor#toFloatArray()}, so device tensors work too.
 */
public final class TensorAssert {
    private TensorAssert() {}

    private static final int SHOWN = 10;

    /** Passes iff every |expected - actual| <= absTol + relTol |expected| (NaN never passes). */
    public static void assertClose(String what, float[] expected, float[] actual, double absTol, double relTol) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        int bad = 0;
        for (int i = 0; i < expected.length; i++) if (!close(expected[i], actual[i], absTol, relTol)) bad++;
        if (bad == 0) return;
        StringBuilder sb = new StringBuilder();
        sb.append(what).append(": ").append(bad).append(" of ").append(expected.length)
                .append(" elements differ (|e - a| > ").append(absTol).append(" + ").append(relTol).append(" |e|)");
        appendDetails(sb, expected, actual, absTol, relTol, false);
        fail(sb.toString());
    }

    public static void assertClose(String what, Tensor expected, Tensor actual, double absTol, double relTol) {
        if (!expected.shape().equals(actual.shape())) {
            fail(what + ": expected shape " + expected.shape() + ", got " + actual.shape());
        }
        assertClose(what, expected.toFloatArray(), actual.toFloatArray(), absTol, relTol);
    }

    public static void assertClose(String what, float[] expected, Tensor actual, double absTol, double relTol) {
        assertClose(what, expected, actual.toFloatArray(), absTol, relTol);
    }

    /** Passes iff the arrays hold the same bits (all NaNs count as equal). */
    public static void assertBitwise(String what, float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " values, got " + actual.length);
        }
        int bad = 0;
        for (int i = 0; i < expected.length; i++) if (!sameBits(expected[i], actual[i])) bad++;
        if (bad == 0) return;
        StringBuilder sb = new StringBuilder();
        sb.append(what).append(": ").append(bad).append(" of ").append(expected.length).append(" elements differ bitwise");
        appendDetails(sb, expected, actual, 0, 0, true);
        fail(sb.toString());
    }

    public static void assertBitwise(String what, Tensor expected, Tensor actual) {
        assertBitwise(what, expected.toFloatArray(), actual.toFloatArray());
    }

    /** max |expected - actual| over the arrays (NaN if any difference is NaN). */
    public static double maxAbsDiff(float[] expected, float[] actual) {
        double max = 0;
        for (int i = 0; i < Math.min(expected.length, actual.length); i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (Double.isNaN(d)) return Double.NaN;
            max = Math.max(max, d);
        }
        return max;
    }

    private static boolean close(float e, float a, double absTol, double relTol) {
        if (e == a) return true;   // also equal infinities
        double d = Math.abs((double) e - a);
        return d <= absTol + relTol * Math.abs((double) e);   // false for NaN
    }

    private static boolean sameBits(float e, float a) {
        return Float.floatToIntBits(e) == Float.floatToIntBits(a);
    }

    private static void appendDetails(StringBuilder sb, float[] e, float[] a, double absTol, double relTol, boolean bitwise) {
        int maxAt = 0;
        double max = -1;
        for (int i = 0; i < e.length; i++) {
            double d = Math.abs((double) e[i] - a[i]);
            if (Double.isNaN(d)) d = Double.POSITIVE_INFINITY;
            if (d > max) { max = d; maxAt = i; }
        }
        sb.append("; max |diff| ").append(max).append(" at [").append(maxAt).append("]\n");
        sb.append(String.format("%10s  %16s  %16s  %12s%n", "index", "expected", "actual", "diff"));
        int shown = 0;
        for (int i = 0; i < e.length && shown < SHOWN; i++) {
            boolean differs = bitwise ? !sameBits(e[i], a[i]) : !close(e[i], a[i], absTol, relTol);
            if (!differs) continue;
            sb.append(String.format("%10d  %16.9g  %16.9g  %12.4e%n", i, e[i], a[i], (double) a[i] - e[i]));
            shown++;
        }
        if (maxAt >= 0 && shown == SHOWN) {
            sb.append(String.format("%10s%n", "..."));
            sb.append(String.format("%10d  %16.9g  %16.9g  %12.4e   (max)%n", maxAt, e[maxAt], a[maxAt], (double) a[maxAt] - e[maxAt]));
        }
    }
}

package dev.isthmus.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** VectorMath's exp and tanh: close to Math's over their whole range, exact at the edges, and the same bits on every call. */
class VectorMathTest {
    private static final VectorSpecies<Float> S = Simd.SPECIES;

    private static float[] apply(boolean tanh, float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            (tanh ? VectorMath.tanh(v) : VectorMath.exp(v)).intoArray(y, i);
        }
        return y;
    }

    /** Every 1/4096 from lo to hi, padded to whole vectors. */
    private static float[] grid(float lo, float hi) {
        int n = (int) ((hi - lo) * 4096);
        n = (n + S.length() - 1) / S.length() * S.length();
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + i / 4096f;
        return x;
    }

    /** The largest error of VectorMath's function against Math's over a grid of [lo, hi], in ulps of the exact value. */
    private static double worstUlps(boolean tanh, float lo, float hi) {
        float[] x = grid(lo, hi);
        float[] y = apply(tanh, x);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double exact = tanh ? Math.tanh(x[i]) : Math.exp(x[i]);
            worst = Math.max(worst, Math.abs(y[i] - exact) / Math.ulp((float) exact));
        }
        return worst;
    }

    @Test void expWithinAFewUlps() {
        double worst = worstUlps(false, -87f, 88f);
        assertTrue(worst <= 3, "exp: worst error " + worst + " ulps over [-87, 88]");
    }

    @Test void tanhWithinAFewUlpsAndExactAtTheEdges() {
        double worst = worstUlps(true, -12f, 12f);
        assertTrue(worst <= 3, "tanh: worst error " + worst + " ulps over [-12, 12]");
        float[] edges = new float[S.length()];
        float[] values = {0f, -0f, 1e-30f, -1e-30f, 20f, -20f, 1000f, -1000f};
        System.arraycopy(values, 0, edges, 0, Math.min(values.length, edges.length));
        float[] t = apply(true, edges);
        for (int i = 0; i < Math.min(values.length, edges.length); i++) {
            assertEquals(Float.floatToIntBits((float) Math.tanh(values[i])), Float.floatToIntBits(t[i]), "tanh(" + values[i] + ")");
        }
    }

    @Test void expClampsBeyondFloatRange() {
        float[] x = new float[S.length()];
        x[0] = -1000f;
        if (x.length > 1) x[1] = 1000f;
        float[] y = apply(false, x);
        assertTrue(y[0] >= 0f && y[0] < 1.2e-38f, "exp(-1000) = " + y[0]);
        if (x.length > 1) assertTrue(y[1] > 3e38f && Float.isFinite(y[1]), "exp(1000) = " + y[1]);
    }

    /** The first call runs interpreted, later ones compiled: the bits must not change (lanewise EXP/TANH's did). */
    @Test void sameBitsBeforeAndAfterCompilation() {
        float[] x = grid(-9f, 9f);
        float[] firstExp = apply(false, x), firstTanh = apply(true, x);
        for (int call = 0; call < 300; call++) {
            apply(false, x);
            apply(true, x);
        }
        assertArrayEquals(firstExp, apply(false, x), "exp: call 1 vs call 302");
        assertArrayEquals(firstTanh, apply(true, x), "tanh: call 1 vs call 302");
    }
}

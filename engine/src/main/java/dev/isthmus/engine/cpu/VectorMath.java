package dev.isthmus.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and tanh over float vectors from IEEE-exact lane operations only (add, multiply, fused
 * multiply-add, divide, compare, integer shift), so every call gives the same bits: before and
 * after C2 compiles the caller, on every thread, in every run.
 *
 * <p>Why not {@code lanewise(EXP)} and {@code lanewise(TANH)}: the Vector API leaves their
 * accuracy to the implementation, and HotSpot computes them with {@code Math.exp}/{@code Math.tanh}
 * per lane while interpreting and with a vector math library once compiled. The two differ in the
 * last bit for some inputs, so the same training run, seeded, gave different losses from one run
 * to the next (LeNet-5's first epoch: 0.6386, 0.6377, 0.6386), depending on when the JIT got there.
 *
 * <p>The approximations are Cephes' single-precision ones (Moshier, {@code expf.c}, {@code tanhf.c}):
 * exp by range reduction to |r| <= ln 2 / 2 and a degree-6 polynomial, scaled by 2^k built in the
 * exponent bits; tanh by an odd polynomial below |x| = 0.625 and 1 - 2 / (exp(2|x|) + 1) above.
 * Both are within a few ulps of {@code Math.exp}/{@code Math.tanh} (VectorMathTest).
 */
public final class VectorMath {
    private VectorMath() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;

    /** exp(x) is computed for x in [EXP_LO, EXP_HI]; beyond, the bounds' values (about 1.2e-38 and 3.3e38). */
    static final float EXP_HI = 88.7f, EXP_LO = -87.3365447504f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** Adding and subtracting 1.5 * 2^23 rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUNDER = 12582912f;
    /** Below this |x|, tanh's polynomial; above, its expression through exp. */
    private static final float TANH_SMALL = 0.625f;

    /** e^x, lane by lane. */
    public static FloatVector exp(FloatVector x) {
        x = x.max(EXP_LO).min(EXP_HI);
        FloatVector k = x.fma(LOG2E, ROUNDER).sub(ROUNDER);   // round(x log2 e), in [-126, 128]
        FloatVector r = k.fma(FloatVector.broadcast(S, -LN2_HI), x);   // x - k ln 2, in two parts for accuracy
        r = k.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
        p = p.fma(r, FloatVector.broadcast(S, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(S, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(S, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(S, 5.0000001201e-1f));
        FloatVector y = p.fma(r.mul(r), r).add(1f);            // e^r
        // 2^k as two normal factors 2^k1 2^k2 (k1 = floor(k / 2)): 2^128 and 2^-126 alone would not fit
        IntVector ki = (IntVector) k.convert(VectorOperators.F2I, 0);
        IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1);
        IntVector k2 = ki.sub(k1);
        // 2^k1 and 2^k2 from the exponent bits, written out here: a vector that crosses a call C2 did
        // not inline is boxed, and a helper's calls are the first C2 gives up when a caller grows large
        FloatVector twoK1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector twoK2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(twoK1).mul(twoK2);
    }

    /** tanh(x), lane by lane. */
    public static FloatVector tanh(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector large = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(exp(ax.add(ax)).add(1f)));
        large = large.blend(large.neg(), x.compare(VectorOperators.LT, 0f));
        FloatVector z = x.mul(x);
        FloatVector p = z.fma(-5.70498872745e-3f, 2.06390887954e-2f);
        p = p.fma(z, FloatVector.broadcast(S, -5.37397155531e-2f));
        p = p.fma(z, FloatVector.broadcast(S, 1.33314422036e-1f));
        p = p.fma(z, FloatVector.broadcast(S, -3.33332819422e-1f));
        FloatVector small = x.mul(z).fma(p, x);                // x + x z P(z)
        small = small.blend(x, ax.compare(VectorOperators.EQ, 0f));   // keeps the sign of -0
        VectorMask<Float> isSmall = ax.compare(VectorOperators.LT, TANH_SMALL);
        return large.blend(small, isSmall);
    }
}

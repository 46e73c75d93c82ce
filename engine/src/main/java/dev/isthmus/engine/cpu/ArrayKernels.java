package dev.isthmus.engine.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Flat float kernels over host memory: fill, axpy, sum of squares. Each public entry
 * dispatches once on {@link Simd#VECTOR} to a Vector API kernel or its scalar twin; the
 * twins are the specification and the tests' oracle.
 *
 * <p>Segments hold {@code n} native-order floats from byte 0 (a tensor's
 * {@code segment()}); callers check sizes, the kernels only {@code assert}.
 */
public final class ArrayKernels {
    private ArrayKernels() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Elements summed in float lanes before the partial sum moves to a double (bounds rounding on big slabs). */
    static final int SUM_BLOCK = 4096;

    // ---- fill: dst[i] = value --------------------------------------------------------------

    public static void fill(MemorySegment dst, long n, float value) {
        fillRange(dst, 0, n, value);
    }

    /** {@link #fill} on elements [from, to) only. */
    public static void fillRange(MemorySegment dst, long from, long to, float value) {
        if (Simd.VECTOR) fillVector(dst, from, to, value);
        else for (long i = from; i < to; i++) dst.setAtIndex(F, i, value);
    }

    public static void fillVector(MemorySegment dst, long n, float value) {
        fillVector(dst, 0, n, value);
    }

    private static void fillVector(MemorySegment dst, long from, long to, float value) {
        assert dst.byteSize() >= to * 4;
        FloatVector v = FloatVector.broadcast(S, value);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            v.intoMemorySegment(dst, i * 4, NATIVE);
        }
        for (; i < to; i++) dst.setAtIndex(F, i, value);
    }

    public static void fillScalar(MemorySegment dst, long n, float value) {
        for (long i = 0; i < n; i++) dst.setAtIndex(F, i, value);
    }

    // ---- axpy: y[i] += alpha x[i] (one fused multiply-add) ---------------------------------

    public static void axpy(float alpha, MemorySegment x, MemorySegment y, long n) {
        axpyRange(alpha, x, y, 0, n);
    }

    /** {@link #axpy} on elements [from, to) only. */
    public static void axpyRange(float alpha, MemorySegment x, MemorySegment y, long from, long to) {
        if (Simd.VECTOR) axpyVector(alpha, x, y, from, to);
        else for (long i = from; i < to; i++) y.setAtIndex(F, i, Math.fma(x.getAtIndex(F, i), alpha, y.getAtIndex(F, i)));
    }

    public static void axpyVector(float alpha, MemorySegment x, MemorySegment y, long n) {
        axpyVector(alpha, x, y, 0, n);
    }

    private static void axpyVector(float alpha, MemorySegment x, MemorySegment y, long from, long to) {
        assert x.byteSize() >= to * 4 && y.byteSize() >= to * 4;
        FloatVector a = FloatVector.broadcast(S, alpha);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector xv = FloatVector.fromMemorySegment(S, x, i * 4, NATIVE);
            FloatVector yv = FloatVector.fromMemorySegment(S, y, i * 4, NATIVE);
            xv.fma(a, yv).intoMemorySegment(y, i * 4, NATIVE);
        }
        for (; i < to; i++) y.setAtIndex(F, i, Math.fma(x.getAtIndex(F, i), alpha, y.getAtIndex(F, i)));
    }

    public static void axpyScalar(float alpha, MemorySegment x, MemorySegment y, long n) {
        for (long i = 0; i < n; i++) y.setAtIndex(F, i, Math.fma(x.getAtIndex(F, i), alpha, y.getAtIndex(F, i)));
    }

    // ---- sum of squares: sum x[i]^2, for gradient norms ------------------------------------

    public static double sumOfSquares(MemorySegment x, long n) {
        return Simd.VECTOR ? sumOfSquaresVector(x, n) : sumOfSquaresScalar(x, n);
    }

    /** Float lanes within blocks of {@link #SUM_BLOCK} elements, blocks added in double. */
    public static double sumOfSquaresVector(MemorySegment x, long n) {
        assert x.byteSize() >= n * 4;
        double total = 0;
        long i = 0;
        long bound = S.loopBound(n);
        while (i < bound) {
            long blockEnd = Math.min(bound, i + SUM_BLOCK);
            FloatVector acc = FloatVector.zero(S);
            for (; i < blockEnd; i += S.length()) {
                FloatVector v = FloatVector.fromMemorySegment(S, x, i * 4, NATIVE);
                acc = v.fma(v, acc);
            }
            total += Simd.sumLanes(acc);   // a fixed order: repeated calls give the same bits
        }
        for (; i < n; i++) {
            float v = x.getAtIndex(F, i);
            total += (double) v * v;
        }
        return total;
    }

    /** The specification: every square and the sum in double. */
    public static double sumOfSquaresScalar(MemorySegment x, long n) {
        double total = 0;
        for (long i = 0; i < n; i++) {
            double v = x.getAtIndex(F, i);
            total += v * v;
        }
        return total;
    }
}

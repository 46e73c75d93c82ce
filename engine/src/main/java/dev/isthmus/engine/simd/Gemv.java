package dev.isthmus.engine.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import dev.isthmus.engine.cpu.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A fully connected forward for a few rows, {@code y (N, OUT) = x (N, IN) . W^T [+ y]} with
 * W (OUT, IN) row-major, without packing: the matrix-vector product that inference at batch 1
 * is. {@link Sgemm} packs W into panels first, which for AlexNet's fc6 copies 151 MB to multiply
 * it once by one vector; here each W row is read once from memory, four rows at a time, and
 * dotted with every x row while it is in cache (x rows are short enough to stay in L1/L2).
 * Memory-bound by design: the work is one pass over W.
 *
 * <p>The scalar twin {@link #rowsScalar} sums in double; the vector version sums each of 16
 * lanes in float and then the lanes in a fixed order ({@link Simd#sumLanes}: repeated calls give
 * the same bits), so results differ by float rounding only.
 */
final class Gemv {
    private Gemv() {}

    /** Batches up to this size take this path in {@link SimdLinearPlan}; larger ones are GEMMs worth packing for. */
    static final int MAX_ROWS = 4;

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** y[r, o] = (accumulate ? y[r, o] : 0) + dot(x[r, :], W[o, :]) for r in [0, n), o in [from, to). */
    static void rows(MemorySegment x, MemorySegment w, MemorySegment y, int n, int in, int out,
                     int from, int to, boolean accumulate) {
        if (Simd.VECTOR) rowsVector(x, w, y, n, in, out, from, to, accumulate);
        else rowsScalar(x, w, y, n, in, out, from, to, accumulate);
    }

    static void rowsScalar(MemorySegment x, MemorySegment w, MemorySegment y, int n, int in, int out,
                           int from, int to, boolean accumulate) {
        for (int r = 0; r < n; r++) {
            for (int o = from; o < to; o++) {
                double acc = 0;
                for (int i = 0; i < in; i++) {
                    acc += (double) x.getAtIndex(F, (long) r * in + i) * w.getAtIndex(F, (long) o * in + i);
                }
                long at = (long) r * out + o;
                y.setAtIndex(F, at, (float) ((accumulate ? y.getAtIndex(F, at) : 0f) + acc));
            }
        }
    }

    static void rowsVector(MemorySegment x, MemorySegment w, MemorySegment y, int n, int in, int out,
                           int from, int to, boolean accumulate) {
        int o = from;
        for (; o + 4 <= to; o += 4) {
            for (int r = 0; r < n; r++) four(x, (long) r * in, w, o, in, y, (long) r * out + o, accumulate);
        }
        for (; o < to; o++) {
            for (int r = 0; r < n; r++) {
                long at = (long) r * out + o;
                float dot = dot(x, (long) r * in, w, (long) o * in, in);
                y.setAtIndex(F, at, (accumulate ? y.getAtIndex(F, at) : 0f) + dot);
            }
        }
    }

    /** y[at .. at+3] (+)= the dots of x row {@code xRow} with W rows o .. o+3: x is loaded once for four rows. */
    private static void four(MemorySegment x, long xRow, MemorySegment w, int o, int in, MemorySegment y, long at,
                             boolean accumulate) {
        long w0 = (long) o * in, w1 = w0 + in, w2 = w1 + in, w3 = w2 + in;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (int bound = S.loopBound(in); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromMemorySegment(S, x, (xRow + i) * 4, NATIVE);
            a0 = FloatVector.fromMemorySegment(S, w, (w0 + i) * 4, NATIVE).fma(v, a0);
            a1 = FloatVector.fromMemorySegment(S, w, (w1 + i) * 4, NATIVE).fma(v, a1);
            a2 = FloatVector.fromMemorySegment(S, w, (w2 + i) * 4, NATIVE).fma(v, a2);
            a3 = FloatVector.fromMemorySegment(S, w, (w3 + i) * 4, NATIVE).fma(v, a3);
        }
        float s0 = Simd.sumLanes(a0), s1 = Simd.sumLanes(a1), s2 = Simd.sumLanes(a2), s3 = Simd.sumLanes(a3);
        for (; i < in; i++) {
            float v = x.getAtIndex(F, xRow + i);
            s0 += v * w.getAtIndex(F, w0 + i);
            s1 += v * w.getAtIndex(F, w1 + i);
            s2 += v * w.getAtIndex(F, w2 + i);
            s3 += v * w.getAtIndex(F, w3 + i);
        }
        store(y, at, s0, accumulate);
        store(y, at + 1, s1, accumulate);
        store(y, at + 2, s2, accumulate);
        store(y, at + 3, s3, accumulate);
    }

    private static float dot(MemorySegment x, long xOff, MemorySegment w, long wOff, int in) {
        FloatVector a = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(in); i < bound; i += S.length()) {
            a = FloatVector.fromMemorySegment(S, w, (wOff + i) * 4, NATIVE)
                    .fma(FloatVector.fromMemorySegment(S, x, (xOff + i) * 4, NATIVE), a);
        }
        float s = Simd.sumLanes(a);
        for (; i < in; i++) s += x.getAtIndex(F, xOff + i) * w.getAtIndex(F, wOff + i);
        return s;
    }

    private static void store(MemorySegment y, long at, float value, boolean accumulate) {
        y.setAtIndex(F, at, accumulate ? y.getAtIndex(F, at) + value : value);
    }
}

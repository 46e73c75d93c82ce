package dev.isthmus.engine.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import dev.isthmus.engine.LrnSpec;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Local response normalisation across channels over NCHW host memory ({@link LrnSpec}; the
 * reference backend's ReferenceLrnPlan is the definition, in double). The window runs over
 * channels, which are HW floats apart, so the kernels vectorise along the positions
 * p = h W + w of one image's planes (a plane is contiguous: W-rows back to back, no row tails)
 * and loop over channels; everything is float.
 *
 * <pre>
 *   s(c)       = k + alpha/size sum_{c' in [c - (size-1)/2, c + size/2]} src(c')^2      (FMA, in channel order)
 *   r(c)       = s(c)^-beta       beta = 0.75: 1 / (sqrt(s) sqrt(sqrt(s))), as oneDNN; else pow
 *   dst(c)     = src(c) r(c)
 *   diffSrc(j) = diffDst(j) r(j) - 2 beta alpha/size src(j) sum_{i in [j - size/2, j + (size-1)/2]} t(i)
 *   t(i)       = diffDst(i) src(i) r(i) / s(i)
 *   src, dst, diffSrc, diffDst  (N, C, H, W) at byte 0 of their segments
 * </pre>
 *
 * A call covers image {@code n}, positions [p0, p1) of every channel: the unit the plans split
 * over threads. The backward first writes r and t for its positions and every channel into a
 * caller's scratch ({@link Geometry#scratchFloats}), then gathers; so p1 - p0 is at most {@link #CHUNK}
 * there. Each vector kernel runs its scalar twin on the tail positions; the twins use the same
 * float operations in the same order (sqrt is exact in both), so for beta = 0.75 they agree bit
 * for bit, and otherwise up to the Vector API's POW against {@link Math#pow}.
 */
public final class LrnKernels {
    private LrnKernels() {}

    /** Positions per backward call: its scratch holds 2 C CHUNK floats (256 KiB at C = 256). */
    public static final int CHUNK = 128;

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    // ---- forward ----------------------------------------------------------------------------

    public static void forward(MemorySegment dst, MemorySegment src, Geometry g, int n, int p0, int p1) {
        if (Simd.VECTOR) forwardVector(dst, src, g, n, p0, p1); else forwardScalar(dst, src, g, n, p0, p1);
    }

    public static void forwardScalar(MemorySegment dst, MemorySegment src, Geometry g, int n, int p0, int p1) {
        long base = g.base(n);
        for (int c = 0; c < g.channels; c++) forwardScalarRange(dst, src, g, base, c, p0, p1);
    }

    private static void forwardScalarRange(MemorySegment dst, MemorySegment src, Geometry g, long base, int c, int p0, int p1) {
        int lo = g.lo(c), hi = g.hi(c);
        long plane = base + (long) c * g.hw;
        for (int p = p0; p < p1; p++) {
            float s = scaleScalar(src, g, base, lo, hi, p);
            dst.setAtIndex(F, plane + p, src.getAtIndex(F, plane + p) * g.power(s));
        }
    }

    public static void forwardVector(MemorySegment dst, MemorySegment src, Geometry g, int n, int p0, int p1) {
        long base = g.base(n);
        assert src.byteSize() >= (base + (long) g.channels * g.hw) * 4 && dst.byteSize() >= (base + (long) g.channels * g.hw) * 4;
        FloatVector k = FloatVector.broadcast(S, g.k), aos = FloatVector.broadcast(S, g.alphaOverSize);
        int bound = p0 + S.loopBound(p1 - p0);
        for (int c = 0; c < g.channels; c++) {
            int lo = g.lo(c), hi = g.hi(c);
            long plane = base + (long) c * g.hw;
            for (int p = p0; p < bound; p += S.length()) {
                FloatVector s = scaleVector(src, g, base, lo, hi, p, k, aos);
                FloatVector x = FloatVector.fromMemorySegment(S, src, (plane + p) * 4, NATIVE);
                x.mul(g.power(s)).intoMemorySegment(dst, (plane + p) * 4, NATIVE);
            }
            forwardScalarRange(dst, src, g, base, c, bound, p1);
        }
    }

    // ---- backward ---------------------------------------------------------------------------

    public static void backward(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment src, Geometry g,
                                int n, int p0, int p1, float[] scratch) {
        if (Simd.VECTOR) backwardVector(diffSrc, diffDst, src, g, n, p0, p1, scratch);
        else backwardScalar(diffSrc, diffDst, src, g, n, p0, p1, scratch);
    }

    public static void backwardScalar(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment src, Geometry g,
                                      int n, int p0, int p1, float[] scratch) {
        long base = checked(g, n, p0, p1, scratch);
        for (int c = 0; c < g.channels; c++) scalesScalarRange(diffDst, src, g, base, c, p0, p0, p1, scratch);
        for (int j = 0; j < g.channels; j++) gatherScalarRange(diffSrc, diffDst, src, g, base, j, p0, p0, p1, scratch);
    }

    public static void backwardVector(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment src, Geometry g,
                                      int n, int p0, int p1, float[] scratch) {
        long base = checked(g, n, p0, p1, scratch);
        FloatVector k = FloatVector.broadcast(S, g.k), aos = FloatVector.broadcast(S, g.alphaOverSize);
        int bound = p0 + S.loopBound(p1 - p0);
        int tOffset = g.channels * CHUNK;
        // pass 1: r(c) and t(c) at every position and channel
        for (int c = 0; c < g.channels; c++) {
            int lo = g.lo(c), hi = g.hi(c);
            long plane = base + (long) c * g.hw;
            for (int p = p0; p < bound; p += S.length()) {
                FloatVector s = scaleVector(src, g, base, lo, hi, p, k, aos);
                FloatVector r = g.power(s);
                FloatVector x = FloatVector.fromMemorySegment(S, src, (plane + p) * 4, NATIVE);
                FloatVector dy = FloatVector.fromMemorySegment(S, diffDst, (plane + p) * 4, NATIVE);
                int at = c * CHUNK + (p - p0);
                r.intoArray(scratch, at);
                dy.mul(x).mul(r).div(s).intoArray(scratch, tOffset + at);
            }
            scalesScalarRange(diffDst, src, g, base, c, p0, bound, p1, scratch);
        }
        // pass 2: diffSrc(j) = dy(j) r(j) - coef src(j) sum of t over the channels whose window holds j
        FloatVector coef = FloatVector.broadcast(S, g.coefficient);
        for (int j = 0; j < g.channels; j++) {
            int lo = Math.max(0, j - g.size / 2), hi = Math.min(g.channels - 1, j + (g.size - 1) / 2);
            long plane = base + (long) j * g.hw;
            for (int p = p0; p < bound; p += S.length()) {
                int q = p - p0;
                FloatVector acc = FloatVector.fromArray(S, scratch, tOffset + lo * CHUNK + q);
                for (int i = lo + 1; i <= hi; i++) acc = acc.add(FloatVector.fromArray(S, scratch, tOffset + i * CHUNK + q));
                FloatVector r = FloatVector.fromArray(S, scratch, j * CHUNK + q);
                FloatVector x = FloatVector.fromMemorySegment(S, src, (plane + p) * 4, NATIVE);
                FloatVector dy = FloatVector.fromMemorySegment(S, diffDst, (plane + p) * 4, NATIVE);
                dy.mul(r).sub(coef.mul(x).mul(acc)).intoMemorySegment(diffSrc, (plane + p) * 4, NATIVE);
            }
            gatherScalarRange(diffSrc, diffDst, src, g, base, j, p0, bound, p1, scratch);
        }
    }

    /** Pass 1 of the scalar backward at positions [from, to) of the call starting at p0. */
    private static void scalesScalarRange(MemorySegment diffDst, MemorySegment src, Geometry g, long base, int c,
                                          int p0, int from, int to, float[] scratch) {
        int lo = g.lo(c), hi = g.hi(c), tOffset = g.channels * CHUNK;
        long plane = base + (long) c * g.hw;
        for (int p = from; p < to; p++) {
            float s = scaleScalar(src, g, base, lo, hi, p);
            float r = g.power(s);
            int at = c * CHUNK + (p - p0);
            scratch[at] = r;
            scratch[tOffset + at] = diffDst.getAtIndex(F, plane + p) * src.getAtIndex(F, plane + p) * r / s;
        }
    }

    /** Pass 2 of the scalar backward at positions [from, to) of the call starting at p0. */
    private static void gatherScalarRange(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment src, Geometry g,
                                          long base, int j, int p0, int from, int to, float[] scratch) {
        int lo = Math.max(0, j - g.size / 2), hi = Math.min(g.channels - 1, j + (g.size - 1) / 2);
        int tOffset = g.channels * CHUNK;
        long plane = base + (long) j * g.hw;
        for (int p = from; p < to; p++) {
            int q = p - p0;
            float acc = scratch[tOffset + lo * CHUNK + q];
            for (int i = lo + 1; i <= hi; i++) acc += scratch[tOffset + i * CHUNK + q];
            float dyr = diffDst.getAtIndex(F, plane + p) * scratch[j * CHUNK + q];
            diffSrc.setAtIndex(F, plane + p, dyr - g.coefficient * src.getAtIndex(F, plane + p) * acc);
        }
    }

    // ---- shared -----------------------------------------------------------------------------

    /** k + alpha/size sum_{i in [lo, hi]} src(i)^2 at position p: FMAs in channel order, then one FMA. */
    private static float scaleScalar(MemorySegment src, Geometry g, long base, int lo, int hi, int p) {
        float sum = 0;
        for (int i = lo; i <= hi; i++) {
            float v = src.getAtIndex(F, base + (long) i * g.hw + p);
            sum = Math.fma(v, v, sum);
        }
        return Math.fma(sum, g.alphaOverSize, g.k);
    }

    private static FloatVector scaleVector(MemorySegment src, Geometry g, long base, int lo, int hi, int p, FloatVector k, FloatVector aos) {
        FloatVector sum = FloatVector.zero(S);
        for (int i = lo; i <= hi; i++) {
            FloatVector v = FloatVector.fromMemorySegment(S, src, (base + (long) i * g.hw + p) * 4, NATIVE);
            sum = v.fma(v, sum);
        }
        return sum.fma(aos, k);
    }

    /** The first float of image n, after checking a backward call's range and scratch. */
    private static long checked(Geometry g, int n, int p0, int p1, float[] scratch) {
        if (p1 - p0 > CHUNK) throw new IllegalArgumentException("LRN backward covers at most " + CHUNK + " positions, got [" + p0 + ", " + p1 + ")");
        if (scratch.length < g.scratchFloats()) {
            throw new IllegalArgumentException("LRN backward scratch has " + scratch.length + " floats, expected " + g.scratchFloats());
        }
        return g.base(n);
    }

    /** A spec's numbers as the kernels use them, made once per plan and passed to every call. */
    public static final class Geometry {
        final int channels, size;
        final long hw;
        final float alphaOverSize, k, beta, coefficient;
        final boolean threeQuarters;

        public Geometry(LrnSpec spec) {
            channels = spec.channels();
            size = spec.size();
            hw = (long) spec.height() * spec.width();
            alphaOverSize = spec.alpha() / spec.size();
            k = spec.k();
            beta = spec.beta();
            coefficient = 2 * alphaOverSize * beta;
            threeQuarters = beta == 0.75f;
        }

        /** Floats of scratch one backward call needs: r and t, (2, C, CHUNK). */
        public int scratchFloats() { return 2 * channels * CHUNK; }

        /** The first float of image n. */
        long base(int n) { return (long) n * channels * hw; }

        int lo(int c) { return Math.max(0, c - (size - 1) / 2); }

        int hi(int c) { return Math.min(channels - 1, c + size / 2); }

        float power(float s) {
            if (threeQuarters) {
                float root = (float) Math.sqrt(s);
                return 1f / (root * (float) Math.sqrt(root));
            }
            return (float) Math.pow(s, -beta);
        }

        FloatVector power(FloatVector s) {
            if (threeQuarters) {
                FloatVector root = s.sqrt();
                return FloatVector.broadcast(S, 1f).div(root.mul(root.sqrt()));
            }
            return s.lanewise(VectorOperators.POW, -beta);
        }
    }
}

package dev.isthmus.engine.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import dev.isthmus.engine.cpu.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Small float loops at element offsets inside a segment (a row of an image, a channel's
 * bias), which {@code cpu.ArrayKernels} (whole segments from 0) does not cover. Each entry
 * dispatches on {@link Simd#VECTOR} to a vector loop or its scalar twin; offsets count floats.
 * The vector loops end in one masked vector, not a scalar tail: LeNet's rows are 10 to 28 floats.
 */
final class Vec {
    private Vec() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** dst[off .. off+n) = value. */
    static void fill(MemorySegment dst, long off, int n, float value) {
        if (Simd.VECTOR) fillVector(dst, off, n, value); else fillScalar(dst, off, n, value);
    }

    static void fillVector(MemorySegment dst, long off, int n, float value) {
        FloatVector v = FloatVector.broadcast(S, value);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) v.intoMemorySegment(dst, (off + i) * 4, NATIVE);
        if (i < n) v.intoMemorySegment(dst, (off + i) * 4, NATIVE, tail(n - i));
    }

    static void fillScalar(MemorySegment dst, long off, int n, float value) {
        for (int i = 0; i < n; i++) dst.setAtIndex(F, off + i, value);
    }

    /** dst[dOff + i] += src[sOff + i] for i in [0, n). */
    static void add(MemorySegment dst, long dOff, MemorySegment src, long sOff, int n) {
        if (Simd.VECTOR) addVector(dst, dOff, src, sOff, n); else addScalar(dst, dOff, src, sOff, n);
    }

    static void addVector(MemorySegment dst, long dOff, MemorySegment src, long sOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector d = FloatVector.fromMemorySegment(S, dst, (dOff + i) * 4, NATIVE);
            d.add(FloatVector.fromMemorySegment(S, src, (sOff + i) * 4, NATIVE)).intoMemorySegment(dst, (dOff + i) * 4, NATIVE);
        }
        if (i < n) {
            VectorMask<Float> m = tail(n - i);
            FloatVector d = FloatVector.fromMemorySegment(S, dst, (dOff + i) * 4, NATIVE, m);
            d.add(FloatVector.fromMemorySegment(S, src, (sOff + i) * 4, NATIVE, m)).intoMemorySegment(dst, (dOff + i) * 4, NATIVE, m);
        }
    }

    static void addScalar(MemorySegment dst, long dOff, MemorySegment src, long sOff, int n) {
        for (int i = 0; i < n; i++) dst.setAtIndex(F, dOff + i, dst.getAtIndex(F, dOff + i) + src.getAtIndex(F, sOff + i));
    }

    /** dst[dOff + i] = src[sOff + i] for i in [0, n): for short runs (an im2col row of 10 floats), where a bulk copy's call costs more than the copy. */
    static void copy(MemorySegment src, long sOff, MemorySegment dst, long dOff, int n) {
        if (Simd.VECTOR) copyVector(src, sOff, dst, dOff, n); else copyScalar(src, sOff, dst, dOff, n);
    }

    static void copyVector(MemorySegment src, long sOff, MemorySegment dst, long dOff, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector.fromMemorySegment(S, src, (sOff + i) * 4, NATIVE).intoMemorySegment(dst, (dOff + i) * 4, NATIVE);
        }
        if (i < n) {
            VectorMask<Float> m = tail(n - i);
            FloatVector.fromMemorySegment(S, src, (sOff + i) * 4, NATIVE, m).intoMemorySegment(dst, (dOff + i) * 4, NATIVE, m);
        }
    }

    static void copyScalar(MemorySegment src, long sOff, MemorySegment dst, long dOff, int n) {
        for (int i = 0; i < n; i++) dst.setAtIndex(F, dOff + i, src.getAtIndex(F, sOff + i));
    }

    /**
     * The first {@code n} lanes (0 < n < lanes): the tail of a loop as one masked vector instead of a
     * scalar loop. {@code fromLong} is intrinsic: a mask register, no allocation.
     */
    static VectorMask<Float> tail(int n) {
        return VectorMask.fromLong(S, (1L << n) - 1);
    }

    /** The sum of src[off .. off+n). */
    static float sum(MemorySegment src, long off, int n) {
        return Simd.VECTOR ? sumVector(src, off, n) : sumScalar(src, off, n);
    }

    static float sumVector(MemorySegment src, long off, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            acc = acc.add(FloatVector.fromMemorySegment(S, src, (off + i) * 4, NATIVE));
        }
        float s = Simd.sumLanes(acc);   // not reduceLanes: see there
        for (; i < n; i++) s += src.getAtIndex(F, off + i);
        return s;
    }

    static float sumScalar(MemorySegment src, long off, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += src.getAtIndex(F, off + i);
        return s;
    }
}

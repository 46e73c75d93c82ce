package dev.isthmus.engine.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import dev.isthmus.engine.cpu.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Small float loops at element offsets inside a segment (a row of an image, a channel's
 * bias), which {@code cpu.ArrayKernels} (whole segments from 0) does not cover. Each entry
 * dispatches on {@link Simd#VECTOR} to a vector loop or its scalar twin; offsets count floats.
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
        for (; i < n; i++) dst.setAtIndex(F, off + i, value);
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
        for (; i < n; i++) dst.setAtIndex(F, dOff + i, dst.getAtIndex(F, dOff + i) + src.getAtIndex(F, sOff + i));
    }

    static void addScalar(MemorySegment dst, long dOff, MemorySegment src, long sOff, int n) {
        for (int i = 0; i < n; i++) dst.setAtIndex(F, dOff + i, dst.getAtIndex(F, dOff + i) + src.getAtIndex(F, sOff + i));
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

package dev.isthmus.engine.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import dev.isthmus.engine.DropoutPlan;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Inverted dropout forward and backward over flat host memory, with the mask of
 * {@link DropoutPlan#keep} bit for bit (one byte per element, 1 = kept) and survivors
 * multiplied by the float {@code scale = (float) (1 / (1 - p))}: every path gives the same
 * bits as the reference backend.
 *
 * <pre>
 *   forward:   mask[i] = keep(seed, i, p),  dst[i] = mask[i] ? src[i] scale : 0
 *   backward:  diffSrc[i] = mask[i] != 0 ? diffDst[i] scale : 0
 *   src, dst, diffSrc, diffDst (n) F32    mask (n) U8, at byte 0 of their segments
 * </pre>
 *
 * The vector forward runs the SplitMix64 finaliser in {@link LongVector} lanes of the same
 * width as {@link Simd#SPECIES} (64-bit lane multiplies: AVX-512DQ's vpmullq), turns the
 * comparison into a lane bit mask, spreads 8 bits into 8 mask bytes with one
 * {@link Long#expand} (PDEP) and blends the scaled floats under the same bits. The vector
 * backward gathers the bits back with {@link Long#compress} (PEXT). CpuDropoutTimingTest
 * measured them about 10x faster than the scalar twins (2^22 elements, AVX-512: forward 6.8 ms
 * against 64 ms, backward 3.8 ms against 42 ms); the 64-bit hash per element dominates the
 * scalar forward.
 * In place ({@code dst == src}, {@code diffSrc == diffDst}) is allowed.
 */
public final class DropoutKernels {
    private DropoutKernels() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    /** Long lanes in the same register width as the float species (1, 2, 4 or 8). */
    private static final VectorSpecies<Long> L = VectorSpecies.of(long.class, S.vectorShape());
    /** Elements per step of the vector loops: a whole float vector and a whole 8-byte mask word. */
    private static final int STEP = Math.max(8, S.length());
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long LOW_BITS = 0x0101010101010101L;

    private static final long GOLDEN = 0x9E3779B97F4A7C15L, MIX1 = 0xBF58476D1CE4E5B9L, MIX2 = 0x94D049BB133111EBL;

    /** {@code (long) ((1 - p) 2^32)}: keep iff the hash's top 32 bits are below it, as in {@link DropoutPlan#keep}. */
    public static long threshold(float p) { return (long) ((1.0 - p) * 4294967296.0); }

    /** {@code (float) (1 / (1 - p))}: what survivors are multiplied by. */
    public static float scale(float p) { return (float) (1.0 / (1.0 - p)); }

    /** The top 32 bits of SplitMix64's finaliser over (seed, i), exactly as {@link DropoutPlan#keep}. */
    static long hash(long seed, long i) {
        long z = seed * GOLDEN + (i + 1) * MIX1;
        z = (z ^ (z >>> 30)) * MIX1;
        z = (z ^ (z >>> 27)) * MIX2;
        z ^= z >>> 31;
        return z >>> 32;
    }

    // ---- forward ----------------------------------------------------------------------------

    public static void forward(MemorySegment dst, MemorySegment mask, MemorySegment src, long n, long seed, float p) {
        if (Simd.VECTOR) forwardVector(dst, mask, src, n, seed, p); else forwardScalar(dst, mask, src, n, seed, p);
    }

    public static void forwardScalar(MemorySegment dst, MemorySegment mask, MemorySegment src, long n, long seed, float p) {
        long threshold = threshold(p);
        float scale = scale(p);
        for (long i = 0; i < n; i++) forwardOne(dst, mask, src, i, seed, threshold, scale);
    }

    private static void forwardOne(MemorySegment dst, MemorySegment mask, MemorySegment src, long i, long seed,
                                   long threshold, float scale) {
        boolean keep = hash(seed, i) < threshold;
        mask.set(B, i, (byte) (keep ? 1 : 0));
        dst.setAtIndex(F, i, keep ? src.getAtIndex(F, i) * scale : 0f);
    }

    public static void forwardVector(MemorySegment dst, MemorySegment mask, MemorySegment src, long n, long seed, float p) {
        assert dst.byteSize() >= n * 4 && src.byteSize() >= n * 4 && mask.byteSize() >= n;
        long threshold = threshold(p);
        float scale = scale(p);
        FloatVector zero = FloatVector.zero(S), scaleV = FloatVector.broadcast(S, scale);
        // z0 = seed GOLDEN + (i + 1) MIX1 for lane i of the first step; each step adds STEP MIX1 (all mod 2^64)
        LongVector lane = LongVector.zero(L).addIndex(1);
        long seedTerm = seed * GOLDEN;
        long i = 0;
        for (long bound = n - n % STEP; i < bound; i += STEP) {
            long bits = 0;
            for (int j = 0; j < STEP; j += L.length()) {
                LongVector z = lane.add(i + j + 1).mul(MIX1).add(seedTerm);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(MIX1);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(MIX2);
                z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31));
                // top 32 bits in [0, 2^32) and threshold in [0, 2^32]: the signed comparison is the unsigned one
                bits |= z.lanewise(VectorOperators.LSHR, 32).compare(VectorOperators.LT, threshold).toLong() << j;
            }
            for (int j = 0; j < STEP; j += 8) mask.set(WORD, i + j, Long.expand(bits >>> j, LOW_BITS));
            for (int j = 0; j < STEP; j += S.length()) {
                VectorMask<Float> keep = VectorMask.fromLong(S, bits >>> j);
                FloatVector x = FloatVector.fromMemorySegment(S, src, (i + j) * 4, NATIVE);
                zero.blend(x.mul(scaleV), keep).intoMemorySegment(dst, (i + j) * 4, NATIVE);
            }
        }
        for (; i < n; i++) forwardOne(dst, mask, src, i, seed, threshold, scale);
    }

    // ---- backward ---------------------------------------------------------------------------

    public static void backward(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment mask, long n, float p) {
        if (Simd.VECTOR) backwardVector(diffSrc, diffDst, mask, n, p); else backwardScalar(diffSrc, diffDst, mask, n, p);
    }

    public static void backwardScalar(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment mask, long n, float p) {
        float scale = scale(p);
        for (long i = 0; i < n; i++) diffSrc.setAtIndex(F, i, mask.get(B, i) != 0 ? diffDst.getAtIndex(F, i) * scale : 0f);
    }

    public static void backwardVector(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment mask, long n, float p) {
        assert diffSrc.byteSize() >= n * 4 && diffDst.byteSize() >= n * 4 && mask.byteSize() >= n;
        float scale = scale(p);
        FloatVector zero = FloatVector.zero(S), scaleV = FloatVector.broadcast(S, scale);
        long i = 0;
        for (long bound = n - n % STEP; i < bound; i += STEP) {
            long bits = 0;
            for (int j = 0; j < STEP; j += 8) {
                long word = mask.get(WORD, i + j);
                word |= word >>> 4;   // any non-zero byte, not only 1, counts as kept: fold each byte into its bit 0
                word |= word >>> 2;
                word |= word >>> 1;
                bits |= Long.compress(word, LOW_BITS) << j;
            }
            for (int j = 0; j < STEP; j += S.length()) {
                VectorMask<Float> keep = VectorMask.fromLong(S, bits >>> j);
                FloatVector dy = FloatVector.fromMemorySegment(S, diffDst, (i + j) * 4, NATIVE);
                zero.blend(dy.mul(scaleV), keep).intoMemorySegment(diffSrc, (i + j) * 4, NATIVE);
            }
        }
        for (; i < n; i++) diffSrc.setAtIndex(F, i, mask.get(B, i) != 0 ? diffDst.getAtIndex(F, i) * scale : 0f);
    }
}

package dev.isthmus.engine.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import dev.isthmus.engine.EltwiseKind;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise activations forward and backward, for every {@link EltwiseKind}.
 * The scalar twins are {@link EltwiseKind#apply} and {@link EltwiseKind#derivativeFromOutput}
 * themselves. The backward is computed from the forward's output {@code dst}, so both
 * directions may run in place ({@code dst == src}, {@code diffSrc == diffDst}).
 *
 * <pre>
 *   forward:   dst[i]     = f(src[i])
 *   backward:  diffSrc[i] = diffDst[i] * f'(x[i]), with f' written in terms of dst[i]
 * </pre>
 *
 * The vector forward of tanh and sigmoid uses {@link VectorMath}'s tanh and exp, within a few
 * ulps of {@code Math.tanh}/{@code Math.exp} and the same bits on every call; the backward and
 * ReLU are the same float operations as the twins, so they match bit for bit.
 */
public final class EltwiseKernels {
    private EltwiseKernels() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    // ---- forward ----------------------------------------------------------------------------

    public static void forward(EltwiseKind kind, MemorySegment dst, MemorySegment src, long n) {
        forwardRange(kind, dst, src, 0, n);
    }

    /**
     * dst[i] = f(src[i]) for i in [from, to): a slice without a slice object, for kernels that apply
     * an activation to each block of their output while it is still in cache, and for a range split
     * over threads.
     */
    public static void forwardRange(EltwiseKind kind, MemorySegment dst, MemorySegment src, long from, long to) {
        if (Simd.VECTOR) forwardVector(kind, dst, src, from, to - from); else forwardScalar(kind, dst, src, from, to - from);
    }

    public static void forwardScalar(EltwiseKind kind, MemorySegment dst, MemorySegment src, long n) {
        forwardScalar(kind, dst, src, 0, n);
    }

    private static void forwardScalar(EltwiseKind kind, MemorySegment dst, MemorySegment src, long from, long n) {
        for (long i = from, end = from + n; i < end; i++) dst.setAtIndex(F, i, kind.apply(src.getAtIndex(F, i)));
    }

    public static void forwardVector(EltwiseKind kind, MemorySegment dst, MemorySegment src, long n) {
        forwardVector(kind, dst, src, 0, n);
    }

    private static void forwardVector(EltwiseKind kind, MemorySegment dst, MemorySegment src, long from, long n) {
        assert dst.byteSize() >= (from + n) * 4 && src.byteSize() >= (from + n) * 4;
        switch (kind) {
            case RELU -> reluForward(dst, src, from, n);
            case TANH -> tanhForward(dst, src, from, n, 1f, 1f, kind);
            case SCALED_TANH -> tanhForward(dst, src, from, n, EltwiseKind.SCALED_TANH_A, EltwiseKind.SCALED_TANH_S, kind);
            case SIGMOID -> sigmoidForward(dst, src, from, n);
        }
    }

    private static void reluForward(MemorySegment dst, MemorySegment src, long from, long n) {
        FloatVector zero = FloatVector.zero(S);
        long i = from, end = from + n;
        for (long bound = from + S.loopBound(n); i < bound; i += S.length()) {
            FloatVector x = FloatVector.fromMemorySegment(S, src, i * 4, NATIVE);
            // x > 0 ? x : 0, exactly as EltwiseKind.apply (NaN and -0 become +0)
            zero.blend(x, x.compare(VectorOperators.GT, 0f)).intoMemorySegment(dst, i * 4, NATIVE);
        }
        for (; i < end; i++) dst.setAtIndex(F, i, EltwiseKind.RELU.apply(src.getAtIndex(F, i)));
    }

    /** a tanh(s x); a = s = 1 is plain tanh. */
    private static void tanhForward(MemorySegment dst, MemorySegment src, long from, long n, float a, float s, EltwiseKind kind) {
        long i = from, end = from + n;
        for (long bound = from + S.loopBound(n); i < bound; i += S.length()) {
            FloatVector x = FloatVector.fromMemorySegment(S, src, i * 4, NATIVE);
            VectorMath.tanh(x.mul(s)).mul(a).intoMemorySegment(dst, i * 4, NATIVE);
        }
        for (; i < end; i++) dst.setAtIndex(F, i, kind.apply(src.getAtIndex(F, i)));
    }

    /** 1 / (1 + exp(-x)). */
    private static void sigmoidForward(MemorySegment dst, MemorySegment src, long from, long n) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        long i = from, end = from + n;
        for (long bound = from + S.loopBound(n); i < bound; i += S.length()) {
            FloatVector x = FloatVector.fromMemorySegment(S, src, i * 4, NATIVE);
            one.div(VectorMath.exp(x.neg()).add(one)).intoMemorySegment(dst, i * 4, NATIVE);
        }
        for (; i < end; i++) dst.setAtIndex(F, i, EltwiseKind.SIGMOID.apply(src.getAtIndex(F, i)));
    }

    // ---- backward ---------------------------------------------------------------------------

    public static void backward(EltwiseKind kind, MemorySegment diffSrc, MemorySegment diffDst, MemorySegment dst, long n) {
        backwardRange(kind, diffSrc, diffDst, dst, 0, n);
    }

    /** {@link #backward} on elements [from, to) only. */
    public static void backwardRange(EltwiseKind kind, MemorySegment diffSrc, MemorySegment diffDst, MemorySegment dst,
                                     long from, long to) {
        if (Simd.VECTOR) {
            backwardVector(kind, diffSrc, diffDst, dst, from, to);
            return;
        }
        for (long i = from; i < to; i++) {
            diffSrc.setAtIndex(F, i, diffDst.getAtIndex(F, i) * kind.derivativeFromOutput(dst.getAtIndex(F, i)));
        }
    }

    public static void backwardScalar(EltwiseKind kind, MemorySegment diffSrc, MemorySegment diffDst, MemorySegment dst, long n) {
        for (long i = 0; i < n; i++) {
            diffSrc.setAtIndex(F, i, diffDst.getAtIndex(F, i) * kind.derivativeFromOutput(dst.getAtIndex(F, i)));
        }
    }

    /**
     * One loop per kind, the switch outside it: with the switch inside the vector loop, C2's loop
     * predicates failed whenever the kinds or sizes a JVM had profiled changed (AlexNet's ReLU,
     * then LeNet's scaled tanh), and the method was deoptimized and recompiled every 0.2 s for
     * seconds on end, running interpreted in between (-Xlog:deoptimization: profile_predicate
     * traps at the loop's back edge); LeNet's training step ran 6 times slower meanwhile.
     */
    public static void backwardVector(EltwiseKind kind, MemorySegment diffSrc, MemorySegment diffDst, MemorySegment dst, long n) {
        backwardVector(kind, diffSrc, diffDst, dst, 0, n);
    }

    private static void backwardVector(EltwiseKind kind, MemorySegment diffSrc, MemorySegment diffDst, MemorySegment dst,
                                       long from, long to) {
        assert diffSrc.byteSize() >= to * 4 && diffDst.byteSize() >= to * 4 && dst.byteSize() >= to * 4;
        long tail = switch (kind) {
            case RELU -> reluBackward(diffSrc, diffDst, dst, from, to);
            case TANH -> tanhBackward(diffSrc, diffDst, dst, from, to);
            case SCALED_TANH -> scaledTanhBackward(diffSrc, diffDst, dst, from, to);
            case SIGMOID -> sigmoidBackward(diffSrc, diffDst, dst, from, to);
        };
        for (long i = tail; i < to; i++) {
            diffSrc.setAtIndex(F, i, diffDst.getAtIndex(F, i) * kind.derivativeFromOutput(dst.getAtIndex(F, i)));
        }
    }

    // Each returns where the scalar tail starts. The float operations are derivativeFromOutput's, in its order.

    private static long reluBackward(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment dst, long from, long to) {
        FloatVector zero = FloatVector.zero(S), one = FloatVector.broadcast(S, 1f);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector y = FloatVector.fromMemorySegment(S, dst, i * 4, NATIVE);
            FloatVector dy = FloatVector.fromMemorySegment(S, diffDst, i * 4, NATIVE);
            dy.mul(zero.blend(one, y.compare(VectorOperators.GT, 0f))).intoMemorySegment(diffSrc, i * 4, NATIVE);
        }
        return i;
    }

    private static long tanhBackward(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment dst, long from, long to) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector y = FloatVector.fromMemorySegment(S, dst, i * 4, NATIVE);
            FloatVector dy = FloatVector.fromMemorySegment(S, diffDst, i * 4, NATIVE);
            dy.mul(one.sub(y.mul(y))).intoMemorySegment(diffSrc, i * 4, NATIVE);
        }
        return i;
    }

    /** f' = (s / a) (a^2 - y^2), the constants folded exactly as derivativeFromOutput folds them. */
    private static long scaledTanhBackward(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment dst, long from, long to) {
        FloatVector sOverA = FloatVector.broadcast(S, EltwiseKind.SCALED_TANH_S / EltwiseKind.SCALED_TANH_A);
        FloatVector aSquared = FloatVector.broadcast(S, EltwiseKind.SCALED_TANH_A * EltwiseKind.SCALED_TANH_A);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector y = FloatVector.fromMemorySegment(S, dst, i * 4, NATIVE);
            FloatVector dy = FloatVector.fromMemorySegment(S, diffDst, i * 4, NATIVE);
            dy.mul(sOverA.mul(aSquared.sub(y.mul(y)))).intoMemorySegment(diffSrc, i * 4, NATIVE);
        }
        return i;
    }

    private static long sigmoidBackward(MemorySegment diffSrc, MemorySegment diffDst, MemorySegment dst, long from, long to) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            FloatVector y = FloatVector.fromMemorySegment(S, dst, i * 4, NATIVE);
            FloatVector dy = FloatVector.fromMemorySegment(S, diffDst, i * 4, NATIVE);
            dy.mul(y.mul(one.sub(y))).intoMemorySegment(diffSrc, i * 4, NATIVE);
        }
        return i;
    }
}

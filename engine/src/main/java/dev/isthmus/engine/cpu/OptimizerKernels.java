package dev.isthmus.engine.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The optimizer updates over one flat parameter slab, with PyTorch's semantics
 * (torch/optim/sgd.py, rmsprop.py, adam.py; see {@link dev.isthmus.engine.OptimizerSpec}).
 *
 * <pre>
 *   params (n)   grads (n)   state (slots, n): SGD [buf]; RMSProp [sq, buf if momentum]; Adam [m, v]
 * </pre>
 *
 * Each update is written once as a sequence of float operations (fused multiply-adds
 * where PyTorch does {@code add_(x, alpha=a)}); the vector kernel and its scalar twin
 * perform the same operations in the same order and agree bit for bit.
 */
public final class OptimizerKernels {
    private OptimizerKernels() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    // ---- SGD ----------------------------------------------------------------------------------
    // g = grad + wd p;  buf = first ? g : momentum buf + (1 - dampening) g;
    // g = nesterov ? g + momentum buf : buf;  p -= lr g.   Without momentum: p -= lr g, no state.

    public static void sgd(MemorySegment params, MemorySegment grads, MemorySegment state, long n, float lr,
                           float momentum, float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        sgdRange(params, grads, state, 0, n, lr, momentum, dampening, weightDecay, nesterov, firstStep);
    }

    /** {@link #sgd} on elements [from, to) only: one part of a range split over threads. */
    public static void sgdRange(MemorySegment params, MemorySegment grads, MemorySegment state, long from, long to, float lr,
                                float momentum, float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        if (Simd.VECTOR) sgdVector(params, grads, state, from, to, lr, momentum, dampening, weightDecay, nesterov, firstStep);
        else {
            float keep = 1f - dampening;
            for (long i = from; i < to; i++) sgdOne(params, grads, state, i, lr, momentum, keep, weightDecay, nesterov, firstStep);
        }
    }

    public static void sgdScalar(MemorySegment params, MemorySegment grads, MemorySegment state, long n, float lr,
                                 float momentum, float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        float keep = 1f - dampening;
        for (long i = 0; i < n; i++) sgdOne(params, grads, state, i, lr, momentum, keep, weightDecay, nesterov, firstStep);
    }

    private static void sgdOne(MemorySegment params, MemorySegment grads, MemorySegment state, long i, float lr,
                               float momentum, float keep, float weightDecay, boolean nesterov, boolean firstStep) {
        float p = params.getAtIndex(F, i);
        float g = Math.fma(weightDecay, p, grads.getAtIndex(F, i));
        if (momentum != 0f) {
            float buf = firstStep ? g : Math.fma(momentum, state.getAtIndex(F, i), keep * g);
            state.setAtIndex(F, i, buf);
            g = nesterov ? Math.fma(momentum, buf, g) : buf;
        }
        params.setAtIndex(F, i, Math.fma(-lr, g, p));
    }

    /**
     * One branch-free loop per case (no momentum; the first step; momentum; Nesterov momentum),
     * chosen before looping: with the branches inside one loop, C2's profiled loop predicates
     * failed whenever a JVM alternated between models (bench compare's LeNet and AlexNet steps), and
     * the method was deoptimized 73 times in a minute, running interpreted in between.
     */
    public static void sgdVector(MemorySegment params, MemorySegment grads, MemorySegment state, long n, float lr,
                                 float momentum, float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        sgdVector(params, grads, state, 0, n, lr, momentum, dampening, weightDecay, nesterov, firstStep);
    }

    private static void sgdVector(MemorySegment params, MemorySegment grads, MemorySegment state, long from, long to, float lr,
                                  float momentum, float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        assert params.byteSize() >= to * 4 && grads.byteSize() >= to * 4 && (momentum == 0f || state.byteSize() >= to * 4);
        float keep = 1f - dampening;
        long i;
        if (momentum == 0f) i = sgdPlain(params, grads, from, to, lr, weightDecay);
        else if (firstStep) i = sgdFirst(params, grads, state, from, to, lr, momentum, weightDecay, nesterov);
        else if (nesterov) i = sgdNesterov(params, grads, state, from, to, lr, momentum, keep, weightDecay);
        else i = sgdMomentum(params, grads, state, from, to, lr, momentum, keep, weightDecay);
        for (; i < to; i++) sgdOne(params, grads, state, i, lr, momentum, keep, weightDecay, nesterov, firstStep);
    }

    // Each loop returns where the scalar tail starts; the operations are sgdOne's, in its order.

    private static long sgdPlain(MemorySegment params, MemorySegment grads, long from, long to, float lr, float weightDecay) {
        FloatVector wd = FloatVector.broadcast(S, weightDecay), negLr = FloatVector.broadcast(S, -lr);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            long at = i * 4;
            FloatVector p = FloatVector.fromMemorySegment(S, params, at, NATIVE);
            FloatVector g = wd.fma(p, FloatVector.fromMemorySegment(S, grads, at, NATIVE));
            negLr.fma(g, p).intoMemorySegment(params, at, NATIVE);
        }
        return i;
    }

    /** The first step with momentum: buf = g. Once per optimizer, so one loop with the Nesterov test inside will do. */
    private static long sgdFirst(MemorySegment params, MemorySegment grads, MemorySegment state, long from, long to, float lr,
                                 float momentum, float weightDecay, boolean nesterov) {
        FloatVector wd = FloatVector.broadcast(S, weightDecay), mom = FloatVector.broadcast(S, momentum);
        FloatVector negLr = FloatVector.broadcast(S, -lr);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            long at = i * 4;
            FloatVector p = FloatVector.fromMemorySegment(S, params, at, NATIVE);
            FloatVector g = wd.fma(p, FloatVector.fromMemorySegment(S, grads, at, NATIVE));
            g.intoMemorySegment(state, at, NATIVE);
            if (nesterov) g = mom.fma(g, g);
            negLr.fma(g, p).intoMemorySegment(params, at, NATIVE);
        }
        return i;
    }

    private static long sgdMomentum(MemorySegment params, MemorySegment grads, MemorySegment state, long from, long to, float lr,
                                    float momentum, float keep, float weightDecay) {
        FloatVector wd = FloatVector.broadcast(S, weightDecay), mom = FloatVector.broadcast(S, momentum);
        FloatVector negLr = FloatVector.broadcast(S, -lr);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            long at = i * 4;
            FloatVector p = FloatVector.fromMemorySegment(S, params, at, NATIVE);
            FloatVector buf = momentumBuffer(grads, state, at, p, wd, mom, keep);
            negLr.fma(buf, p).intoMemorySegment(params, at, NATIVE);
        }
        return i;
    }

    private static long sgdNesterov(MemorySegment params, MemorySegment grads, MemorySegment state, long from, long to, float lr,
                                    float momentum, float keep, float weightDecay) {
        FloatVector wd = FloatVector.broadcast(S, weightDecay), mom = FloatVector.broadcast(S, momentum);
        FloatVector negLr = FloatVector.broadcast(S, -lr);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            long at = i * 4;
            FloatVector p = FloatVector.fromMemorySegment(S, params, at, NATIVE);
            FloatVector g = wd.fma(p, FloatVector.fromMemorySegment(S, grads, at, NATIVE));
            FloatVector buf = mom.fma(FloatVector.fromMemorySegment(S, state, at, NATIVE), g.mul(keep));
            buf.intoMemorySegment(state, at, NATIVE);
            negLr.fma(mom.fma(buf, g), p).intoMemorySegment(params, at, NATIVE);
        }
        return i;
    }

    /** g = grad + wd p; buf = momentum buf + keep g, stored; returns buf (sgdOne's order). */
    private static FloatVector momentumBuffer(MemorySegment grads, MemorySegment state, long at, FloatVector p,
                                              FloatVector wd, FloatVector mom, float keep) {
        FloatVector g = wd.fma(p, FloatVector.fromMemorySegment(S, grads, at, NATIVE));
        FloatVector buf = mom.fma(FloatVector.fromMemorySegment(S, state, at, NATIVE), g.mul(keep));
        buf.intoMemorySegment(state, at, NATIVE);
        return buf;
    }

    // ---- RMSProp ------------------------------------------------------------------------------
    // g = grad + wd p;  sq = alpha sq + (1 - alpha) g^2;  d = g / (sqrt(sq) + eps);
    // momentum: buf = momentum buf + d, p -= lr buf;  else p -= lr d.   State: sq at slot 0, buf at slot 1.

    public static void rmsProp(MemorySegment params, MemorySegment grads, MemorySegment state, long n, float lr,
                               float alpha, float eps, float weightDecay, float momentum) {
        rmsPropRange(params, grads, state, n, 0, n, lr, alpha, eps, weightDecay, momentum);
    }

    /** {@link #rmsProp} on elements [from, to) of n (state slots stay n apart). */
    public static void rmsPropRange(MemorySegment params, MemorySegment grads, MemorySegment state, long n, long from, long to,
                                    float lr, float alpha, float eps, float weightDecay, float momentum) {
        long i = Simd.VECTOR ? rmsPropLoop(params, grads, state, n, from, to, lr, alpha, eps, weightDecay, momentum, momentum > 0f) : from;
        for (; i < to; i++) rmsPropOne(params, grads, state, n, i, lr, alpha, eps, weightDecay, momentum);
    }

    public static void rmsPropScalar(MemorySegment params, MemorySegment grads, MemorySegment state, long n, float lr,
                                     float alpha, float eps, float weightDecay, float momentum) {
        for (long i = 0; i < n; i++) rmsPropOne(params, grads, state, n, i, lr, alpha, eps, weightDecay, momentum);
    }

    private static void rmsPropOne(MemorySegment params, MemorySegment grads, MemorySegment state, long n, long i,
                                   float lr, float alpha, float eps, float weightDecay, float momentum) {
        float p = params.getAtIndex(F, i);
        float g = Math.fma(weightDecay, p, grads.getAtIndex(F, i));
        float sq = Math.fma(alpha, state.getAtIndex(F, i), (1f - alpha) * g * g);
        state.setAtIndex(F, i, sq);
        float d = g / ((float) Math.sqrt(sq) + eps);
        if (momentum > 0f) {
            float buf = Math.fma(momentum, state.getAtIndex(F, n + i), d);
            state.setAtIndex(F, n + i, buf);
            d = buf;
        }
        params.setAtIndex(F, i, Math.fma(-lr, d, p));
    }

    /** Two branch-free loops, with and without momentum, for the reason {@link #sgdVector} gives. */
    public static void rmsPropVector(MemorySegment params, MemorySegment grads, MemorySegment state, long n, float lr,
                                     float alpha, float eps, float weightDecay, float momentum) {
        assert params.byteSize() >= n * 4 && grads.byteSize() >= n * 4
                && state.byteSize() >= (momentum > 0f ? 2 : 1) * n * 4;
        long i = rmsPropLoop(params, grads, state, n, 0, n, lr, alpha, eps, weightDecay, momentum, momentum > 0f);
        for (; i < n; i++) rmsPropOne(params, grads, state, n, i, lr, alpha, eps, weightDecay, momentum);
    }

    private static long rmsPropLoop(MemorySegment params, MemorySegment grads, MemorySegment state, long n, long from, long to, float lr,
                                    float alpha, float eps, float weightDecay, float momentum, boolean useMomentum) {
        return useMomentum ? rmsPropMomentum(params, grads, state, n, from, to, lr, alpha, eps, weightDecay, momentum)
                : rmsPropPlain(params, grads, state, n, from, to, lr, alpha, eps, weightDecay);
    }

    /** sq = alpha sq + (1 - alpha) g^2, then g / (sqrt(sq) + eps): the update's common part. */
    private static FloatVector rmsPropStep(MemorySegment grads, MemorySegment state, long at, FloatVector p,
                                           FloatVector wd, FloatVector a, float oneMinusAlpha, float eps) {
        FloatVector g = wd.fma(p, FloatVector.fromMemorySegment(S, grads, at, NATIVE));
        FloatVector sq = a.fma(FloatVector.fromMemorySegment(S, state, at, NATIVE), g.mul(oneMinusAlpha).mul(g));
        sq.intoMemorySegment(state, at, NATIVE);
        return g.div(sq.lanewise(VectorOperators.SQRT).add(eps));
    }

    private static long rmsPropPlain(MemorySegment params, MemorySegment grads, MemorySegment state, long n, long from, long to, float lr,
                                     float alpha, float eps, float weightDecay) {
        FloatVector wd = FloatVector.broadcast(S, weightDecay), a = FloatVector.broadcast(S, alpha);
        FloatVector negLr = FloatVector.broadcast(S, -lr);
        float oneMinusAlpha = 1f - alpha;
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            long at = i * 4;
            FloatVector p = FloatVector.fromMemorySegment(S, params, at, NATIVE);
            FloatVector d = rmsPropStep(grads, state, at, p, wd, a, oneMinusAlpha, eps);
            negLr.fma(d, p).intoMemorySegment(params, at, NATIVE);
        }
        return i;
    }

    private static long rmsPropMomentum(MemorySegment params, MemorySegment grads, MemorySegment state, long n, long from, long to, float lr,
                                        float alpha, float eps, float weightDecay, float momentum) {
        FloatVector wd = FloatVector.broadcast(S, weightDecay), a = FloatVector.broadcast(S, alpha);
        FloatVector mom = FloatVector.broadcast(S, momentum), negLr = FloatVector.broadcast(S, -lr);
        float oneMinusAlpha = 1f - alpha;
        long bufAt = n * 4;
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            long at = i * 4;
            FloatVector p = FloatVector.fromMemorySegment(S, params, at, NATIVE);
            FloatVector d = rmsPropStep(grads, state, at, p, wd, a, oneMinusAlpha, eps);
            d = mom.fma(FloatVector.fromMemorySegment(S, state, bufAt + at, NATIVE), d);
            d.intoMemorySegment(state, bufAt + at, NATIVE);
            negLr.fma(d, p).intoMemorySegment(params, at, NATIVE);
        }
        return i;
    }

    // ---- Adam / AdamW -------------------------------------------------------------------------
    // decoupled: p *= 1 - lr wd, g = grad;  else g = grad + wd p.
    // m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    // p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).   State: m at slot 0, v at slot 1.

    public static void adam(MemorySegment params, MemorySegment grads, MemorySegment state, long n, float lr,
                            float beta1, float beta2, float eps, float weightDecay, boolean decoupled, long step) {
        adamRange(params, grads, state, n, 0, n, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }

    /** {@link #adam} on elements [from, to) of n (state slots stay n apart). */
    public static void adamRange(MemorySegment params, MemorySegment grads, MemorySegment state, long n, long from, long to,
                                 float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled, long step) {
        if (Simd.VECTOR) {
            adamVector(params, grads, state, n, from, to, lr, beta1, beta2, eps, weightDecay, decoupled, step);
            return;
        }
        float stepSize = adamStepSize(lr, beta1, step);
        float sqrtC2 = adamSqrtCorrection2(beta2, step);
        float decay = 1f - lr * weightDecay;
        for (long i = from; i < to; i++) {
            adamOne(params, grads, state, n, i, beta1, beta2, eps, weightDecay, decoupled, stepSize, sqrtC2, decay);
        }
    }

    /** lr / (1 - beta1^t), computed in double once per step. */
    static float adamStepSize(float lr, float beta1, long step) {
        return (float) (lr / (1 - Math.pow(beta1, step)));
    }

    /** sqrt(1 - beta2^t), computed in double once per step. */
    static float adamSqrtCorrection2(float beta2, long step) {
        return (float) Math.sqrt(1 - Math.pow(beta2, step));
    }

    public static void adamScalar(MemorySegment params, MemorySegment grads, MemorySegment state, long n, float lr,
                                  float beta1, float beta2, float eps, float weightDecay, boolean decoupled, long step) {
        float stepSize = adamStepSize(lr, beta1, step);
        float sqrtC2 = adamSqrtCorrection2(beta2, step);
        float decay = 1f - lr * weightDecay;
        for (long i = 0; i < n; i++) {
            adamOne(params, grads, state, n, i, beta1, beta2, eps, weightDecay, decoupled, stepSize, sqrtC2, decay);
        }
    }

    private static void adamOne(MemorySegment params, MemorySegment grads, MemorySegment state, long n, long i,
                                float beta1, float beta2, float eps, float weightDecay, boolean decoupled,
                                float stepSize, float sqrtC2, float decay) {
        float p = params.getAtIndex(F, i);
        float g = grads.getAtIndex(F, i);
        if (decoupled) p = p * decay; else g = Math.fma(weightDecay, p, g);
        float m = Math.fma(beta1, state.getAtIndex(F, i), (1f - beta1) * g);
        float v = Math.fma(beta2, state.getAtIndex(F, n + i), (1f - beta2) * g * g);
        state.setAtIndex(F, i, m);
        state.setAtIndex(F, n + i, v);
        float denom = (float) Math.sqrt(v) / sqrtC2 + eps;
        params.setAtIndex(F, i, Math.fma(-stepSize, m / denom, p));
    }

    /** Two branch-free loops, L2 and decoupled (AdamW) weight decay, for the reason {@link #sgdVector} gives. */
    public static void adamVector(MemorySegment params, MemorySegment grads, MemorySegment state, long n, float lr,
                                  float beta1, float beta2, float eps, float weightDecay, boolean decoupled, long step) {
        adamVector(params, grads, state, n, 0, n, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }

    private static void adamVector(MemorySegment params, MemorySegment grads, MemorySegment state, long n, long from, long to,
                                   float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled, long step) {
        assert params.byteSize() >= n * 4 && grads.byteSize() >= n * 4 && state.byteSize() >= 2 * n * 4;
        float stepSize = adamStepSize(lr, beta1, step);
        float sqrtC2 = adamSqrtCorrection2(beta2, step);
        float decay = 1f - lr * weightDecay;
        long i = decoupled ? adamDecoupled(params, grads, state, n, from, to, beta1, beta2, eps, stepSize, sqrtC2, decay)
                : adamCoupled(params, grads, state, n, from, to, beta1, beta2, eps, weightDecay, stepSize, sqrtC2);
        for (; i < to; i++) {
            adamOne(params, grads, state, n, i, beta1, beta2, eps, weightDecay, decoupled, stepSize, sqrtC2, decay);
        }
    }

    private static long adamCoupled(MemorySegment params, MemorySegment grads, MemorySegment state, long n, long from, long to,
                                    float beta1, float beta2, float eps, float weightDecay, float stepSize, float sqrtC2) {
        FloatVector wd = FloatVector.broadcast(S, weightDecay);
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            long at = i * 4;
            FloatVector p = FloatVector.fromMemorySegment(S, params, at, NATIVE);
            FloatVector g = wd.fma(p, FloatVector.fromMemorySegment(S, grads, at, NATIVE));
            adamUpdate(params, state, n, at, p, g, beta1, beta2, eps, stepSize, sqrtC2);
        }
        return i;
    }

    private static long adamDecoupled(MemorySegment params, MemorySegment grads, MemorySegment state, long n, long from, long to,
                                      float beta1, float beta2, float eps, float stepSize, float sqrtC2, float decay) {
        long i = from;
        for (long bound = from + S.loopBound(to - from); i < bound; i += S.length()) {
            long at = i * 4;
            FloatVector p = FloatVector.fromMemorySegment(S, params, at, NATIVE).mul(decay);
            FloatVector g = FloatVector.fromMemorySegment(S, grads, at, NATIVE);
            adamUpdate(params, state, n, at, p, g, beta1, beta2, eps, stepSize, sqrtC2);
        }
        return i;
    }

    /** m, v and p from the (decayed) parameters p and the gradient g, as adamOne computes them. */
    private static void adamUpdate(MemorySegment params, MemorySegment state, long n, long at, FloatVector p, FloatVector g,
                                   float beta1, float beta2, float eps, float stepSize, float sqrtC2) {
        long vAt = n * 4;
        FloatVector m = FloatVector.broadcast(S, beta1).fma(FloatVector.fromMemorySegment(S, state, at, NATIVE), g.mul(1f - beta1));
        FloatVector v = FloatVector.broadcast(S, beta2).fma(FloatVector.fromMemorySegment(S, state, vAt + at, NATIVE),
                g.mul(1f - beta2).mul(g));
        m.intoMemorySegment(state, at, NATIVE);
        v.intoMemorySegment(state, vAt + at, NATIVE);
        FloatVector denom = v.lanewise(VectorOperators.SQRT).div(sqrtC2).add(eps);
        FloatVector.broadcast(S, -stepSize).fma(m.div(denom), p).intoMemorySegment(params, at, NATIVE);
    }
}

package dev.isthmus.engine.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * The update rules exactly as {@link OptimizerSpec} writes them (PyTorch's semantics), one
 * element at a time in double, stored back as float.
 *
 * <pre>
 *   state slots: SGD [buf]; RMSProp [sq, buf if momentum > 0]; Adam [m, v]
 * </pre>
 */
final class ReferenceOptimizerPlan implements OptimizerPlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final OptimizerSpec spec;
    private final long elements;
    private final Shape stateShape;
    private final String op;

    ReferenceOptimizerPlan(OptimizerSpec spec, long elements) {
        if (spec == null) throw new IllegalArgumentException("optimizer spec is null");
        this.spec = spec;
        this.elements = Checks.positive("optimizer elements", elements);
        this.stateShape = OptimizerPlan.super.stateShape();
        this.op = "reference optimizer(" + spec + ", " + elements + ")";
    }

    @Override public OptimizerSpec spec() { return spec; }

    @Override public long elements() { return elements; }

    @Override public Shape stateShape() { return stateShape; }

    @Override public void step(Tensor params, Tensor state, Tensor grads, float lr, long step) {
        Checks.optimizerStep(op, params, state, grads, lr, step, elements, stateShape);
        MemorySegment p = params.segment(), s = state.segment(), g = grads.segment();
        long n = elements;
        for (long i = 0; i < n; i++) {
            double param = p.getAtIndex(F, i);
            double grad = g.getAtIndex(F, i);
            switch (spec) {
                case OptimizerSpec.Sgd sgd -> {
                    grad += sgd.weightDecay() * param;
                    if (sgd.momentum() > 0) {
                        double buf = step == 1 ? grad
                                : sgd.momentum() * s.getAtIndex(F, i) + (1.0 - sgd.dampening()) * grad;
                        s.setAtIndex(F, i, (float) buf);
                        grad = sgd.nesterov() ? grad + sgd.momentum() * buf : buf;
                    }
                    param -= lr * grad;
                }
                case OptimizerSpec.RmsProp rms -> {
                    grad += rms.weightDecay() * param;
                    double sq = rms.alpha() * s.getAtIndex(F, i) + (1.0 - rms.alpha()) * grad * grad;
                    s.setAtIndex(F, i, (float) sq);
                    double d = grad / (Math.sqrt(sq) + rms.eps());
                    if (rms.momentum() > 0) {
                        double buf = rms.momentum() * s.getAtIndex(F, n + i) + d;
                        s.setAtIndex(F, n + i, (float) buf);
                        d = buf;
                    }
                    param -= lr * d;
                }
                case OptimizerSpec.Adam adam -> {
                    if (adam.decoupled()) param *= 1.0 - (double) lr * adam.weightDecay();
                    else grad += adam.weightDecay() * param;
                    double m = adam.beta1() * s.getAtIndex(F, i) + (1.0 - adam.beta1()) * grad;
                    double v = adam.beta2() * s.getAtIndex(F, n + i) + (1.0 - adam.beta2()) * grad * grad;
                    s.setAtIndex(F, i, (float) m);
                    s.setAtIndex(F, n + i, (float) v);
                    double correction1 = 1 - Math.pow(adam.beta1(), step);
                    double correction2 = 1 - Math.pow(adam.beta2(), step);
                    param -= lr / correction1 * m / (Math.sqrt(v) / Math.sqrt(correction2) + adam.eps());
                }
            }
            p.setAtIndex(F, i, (float) param);
        }
    }

    @Override public void close() {}

    @Override public String toString() { return op; }
}

package dev.isthmus.engine.cpu;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * An {@link OptimizerPlan} on host tensors over {@link OptimizerKernels}: one vector loop
 * over the whole slab per step, single-threaded, nothing allocated per call.
 *
 * <pre>
 *   params (n) F32 any shape   grads (n) F32 any shape   state stateShape() = (max(1, slots), n) F32
 * </pre>
 */
public final class CpuOptimizerPlan implements OptimizerPlan {
    private final OptimizerSpec spec;
    private final long elements;
    private final Shape stateShape;
    private final String op;

    public CpuOptimizerPlan(OptimizerSpec spec, long elements) {
        if (spec == null) throw new IllegalArgumentException("optimizer spec is null");
        this.spec = spec;
        this.elements = Checks.positive("optimizer elements", elements);
        this.stateShape = OptimizerPlan.super.stateShape();
        this.op = "optimizer(" + spec + ", " + elements + ")";
    }

    @Override public OptimizerSpec spec() { return spec; }

    @Override public long elements() { return elements; }

    @Override public Shape stateShape() { return stateShape; }

    @Override public void step(Tensor params, Tensor state, Tensor grads, float lr, long step) {
        Checks.elements(op, "params", params, elements);
        Checks.elements(op, "grads", grads, elements);
        Checks.tensor(op, "state", state, stateShape, DType.F32);
        Checks.finiteNonNegative("learning rate", lr);
        if (step < 1) throw new IllegalArgumentException(op + ": step counts from 1, got " + step);
        switch (spec) {
            case OptimizerSpec.Sgd s -> OptimizerKernels.sgd(params.segment(), grads.segment(), state.segment(), elements,
                    lr, s.momentum(), s.dampening(), s.weightDecay(), s.nesterov(), step == 1);
            case OptimizerSpec.RmsProp r -> OptimizerKernels.rmsProp(params.segment(), grads.segment(), state.segment(),
                    elements, lr, r.alpha(), r.eps(), r.weightDecay(), r.momentum());
            case OptimizerSpec.Adam a -> OptimizerKernels.adam(params.segment(), grads.segment(), state.segment(),
                    elements, lr, a.beta1(), a.beta2(), a.eps(), a.weightDecay(), a.decoupled(), step);
        }
    }

    @Override public void close() {}

    @Override public String toString() { return "cpu " + op; }
}

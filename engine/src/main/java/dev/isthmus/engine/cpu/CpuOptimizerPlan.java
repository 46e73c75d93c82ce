package dev.isthmus.engine.cpu;

import java.lang.foreign.MemorySegment;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * An {@link OptimizerPlan} on host tensors over {@link OptimizerKernels}: one vector loop
 * over the slab per step, split over a {@link ThreadTeam} when one is given and the slab is
 * large (AlexNet's 61 million parameters), nothing allocated per call.
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
    private final ThreadTeam team;   // null: the calling thread only
    private final Step body = new Step();

    public CpuOptimizerPlan(OptimizerSpec spec, long elements) {
        this(spec, elements, null);
    }

    public CpuOptimizerPlan(OptimizerSpec spec, long elements, ThreadTeam team) {
        if (spec == null) throw new IllegalArgumentException("optimizer spec is null");
        this.spec = spec;
        this.elements = Checks.positive("optimizer elements", elements);
        this.stateShape = OptimizerPlan.super.stateShape();
        this.op = "optimizer(" + spec + ", " + elements + ")";
        this.team = team;
    }

    @Override public OptimizerSpec spec() { return spec; }

    @Override public long elements() { return elements; }

    @Override public Shape stateShape() { return stateShape; }

    @Override public void step(Tensor params, Tensor state, Tensor grads, float lr, long step) {
        Checks.optimizerStep(op, params, state, grads, lr, step, elements, stateShape);
        if (team == null || elements < ThreadTeam.MIN_PARALLEL) {
            update(params.segment(), state.segment(), grads.segment(), lr, step, 0, elements);
            return;
        }
        synchronized (body) {   // the body's fields are this call's: one parallel call per plan at a time
            body.set(params.segment(), state.segment(), grads.segment(), lr, step);
            team.run(elements, body);
            body.set(null, null, null, 0f, 0);
        }
    }

    /** The update of elements [from, to); state slots stay {@code elements} apart. */
    private void update(MemorySegment p, MemorySegment s, MemorySegment g, float lr, long step, long from, long to) {
        switch (spec) {
            case OptimizerSpec.Sgd o -> OptimizerKernels.sgdRange(p, g, s, from, to,
                    lr, o.momentum(), o.dampening(), o.weightDecay(), o.nesterov(), step == 1);
            case OptimizerSpec.RmsProp r -> OptimizerKernels.rmsPropRange(p, g, s, elements, from, to,
                    lr, r.alpha(), r.eps(), r.weightDecay(), r.momentum());
            case OptimizerSpec.Adam a -> OptimizerKernels.adamRange(p, g, s, elements, from, to,
                    lr, a.beta1(), a.beta2(), a.eps(), a.weightDecay(), a.decoupled(), step);
        }
    }

    private final class Step implements ThreadTeam.RangeBody {
        private MemorySegment params, state, grads;
        private float lr;
        private long step;

        void set(MemorySegment params, MemorySegment state, MemorySegment grads, float lr, long step) {
            this.params = params;
            this.state = state;
            this.grads = grads;
            this.lr = lr;
            this.step = step;
        }

        @Override public void run(long from, long to) { update(params, state, grads, lr, step, from, to); }
    }

    @Override public void close() {}

    @Override public String toString() { return "cpu " + op; }
}

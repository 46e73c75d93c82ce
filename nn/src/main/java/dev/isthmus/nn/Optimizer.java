package dev.isthmus.nn;

import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Tensor;

/**
 * An update rule over all parameters of a model, in one vector loop over the parameter
 * slab. The subclasses take PyTorch's arguments ({@link SGD}, {@link RMSProp}, {@link Adam});
 * the learning rate may be changed between steps by a schedule. The state (momentum
 * buffers, moments) lives in one tensor that checkpoints save.
 */
public abstract sealed class Optimizer implements AutoCloseable permits SGD, RMSProp, Adam {
    private final Parameters params;
    private final OptimizerPlan plan;
    private final Tensor state;   // (slots, P)
    private float lr;
    private long steps;

    Optimizer(Parameters params, float lr, OptimizerSpec spec) {
        if (!(lr > 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and > 0, got " + lr);
        if (params.count() == 0) throw new IllegalArgumentException("the model has no parameters to optimise");
        this.params = params;
        this.lr = lr;
        this.plan = params.backend().optimizer(spec, params.count());
        this.state = params.backend().allocate(plan.stateShape(), dev.isthmus.engine.DType.F32);
    }

    /** Applies one update from the current gradients. */
    public void step() {
        steps++;
        plan.step(params.values(), state, params.grads(), lr, steps);
    }

    /** Sets every gradient to zero (PyTorch's zero_grad). */
    public void zeroGrad() { params.zeroGrad(); }

    public float lr() { return lr; }

    public void setLr(float lr) {
        if (!(lr > 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and > 0, got " + lr);
        this.lr = lr;
    }

    /** Steps taken so far (Adam's bias correction depends on it; checkpoints keep it). */
    public long steps() { return steps; }

    /** Restores the step count with the state, when resuming from a checkpoint. */
    public void setSteps(long steps) { this.steps = steps; }

    /** The optimizer state, (slots, P): saved and restored by checkpoints. */
    public Tensor state() { return state; }

    public OptimizerSpec spec() { return plan.spec(); }

    @Override public void close() {
        plan.close();
        state.close();
    }
}

package dev.isthmus.engine.opencl;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * The optimizer updates of {@link OptimizerSpec} (optimizer.cl), one work-item per parameter, in
 * float on the device; the per-step scalars (Adam's bias corrections) are computed here in double.
 *
 * <pre>
 *   params, grads (elements)   state (max(1, slots), elements): SGD [buf]; RMSProp [sq, buf]; Adam [m, v]
 * </pre>
 */
final class OpenClOptimizerPlan extends OpenClPlan implements OptimizerPlan {
    private final OptimizerSpec spec;
    private final long elements;
    private final Shape stateShape;
    private final Cl.Kernel kernel;

    OpenClOptimizerPlan(OpenClBackend backend, OptimizerSpec spec, long elements) {
        super(backend, "opencl optimizer(" + spec + ", " + elements + ")");
        this.spec = spec;
        this.elements = Checks.positive("optimizer elements", elements);
        this.stateShape = OptimizerPlan.super.stateShape();
        try {
            synchronized (backend.lock()) {
                kernel = switch (spec) {
                    case OptimizerSpec.Sgd sgd -> kernel("optimizer", "sgd_step").f32(8, sgd.momentum()).f32(9, sgd.dampening())
                            .f32(10, sgd.weightDecay()).i32(11, sgd.nesterov() ? 1 : 0);
                    case OptimizerSpec.RmsProp rms -> kernel("optimizer", "rmsprop_step").f32(8, rms.alpha()).f32(9, rms.eps())
                            .f32(10, rms.weightDecay()).f32(11, rms.momentum());
                    case OptimizerSpec.Adam adam -> kernel("optimizer", "adam_step").f32(10, adam.beta1()).f32(11, adam.beta2())
                            .f32(12, adam.eps()).f32(13, adam.weightDecay()).i32(14, adam.decoupled() ? 1 : 0);
                };
                kernel.i64(6, elements).range(elements, OpenClBackend.GROUP);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override public OptimizerSpec spec() { return spec; }

    @Override public long elements() { return elements; }

    @Override public Shape stateShape() { return stateShape; }

    @Override public void step(Tensor params, Tensor state, Tensor grads, float lr, long step) {
        Checks.optimizerStep(op, params, state, grads, lr, step, elements, stateShape);
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(kernel, 0, op, "params", params);
            backend.tensor(kernel, 2, op, "state", state);
            backend.tensor(kernel, 4, op, "grads", grads);
            switch (spec) {
                case OptimizerSpec.Sgd sgd -> kernel.f32(7, lr).i32(12, step == 1 ? 1 : 0);
                case OptimizerSpec.RmsProp rms -> kernel.f32(7, lr);
                case OptimizerSpec.Adam adam -> {
                    double correction1 = 1 - Math.pow(adam.beta1(), step);
                    double correction2 = 1 - Math.pow(adam.beta2(), step);
                    kernel.f32(7, (float) (lr / correction1)).f32(8, (float) (1 / Math.sqrt(correction2)))
                            .f32(9, (float) (1.0 - (double) lr * adam.weightDecay()));
                }
            }
            backend.queue().run(kernel);
        }
    }
}

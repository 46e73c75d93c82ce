package dev.isthmus.engine.cuda;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * The optimizer updates of {@link OptimizerSpec} (optimizer.cu), one thread per parameter, in float
 * on the device; the per-step scalars (Adam's bias corrections) are computed here in double. The
 * twin of the opencl backend's plan.
 *
 * <pre>
 *   params, grads (elements)   state (max(1, slots), elements): SGD [buf]; RMSProp [sq, buf]; Adam [m, v]
 * </pre>
 */
final class CudaOptimizerPlan extends CudaPlan implements OptimizerPlan {
    private final OptimizerSpec spec;
    private final long elements;
    private final Shape stateShape;
    private final Cu.Kernel kernel;

    CudaOptimizerPlan(CudaBackend backend, OptimizerSpec spec, long elements) {
        super(backend, "cuda optimizer(" + spec + ", " + elements + ")");
        this.spec = spec;
        this.elements = Checks.positive("optimizer elements", elements);
        this.stateShape = OptimizerPlan.super.stateShape();
        try {
            kernel = switch (spec) {
                case OptimizerSpec.Sgd sgd -> kernel("optimizer", "sgd_step", 10).f32(5, sgd.momentum()).f32(6, sgd.dampening())
                        .f32(7, sgd.weightDecay()).i32(8, sgd.nesterov() ? 1 : 0);
                case OptimizerSpec.RmsProp rms -> kernel("optimizer", "rmsprop_step", 9).f32(5, rms.alpha()).f32(6, rms.eps())
                        .f32(7, rms.weightDecay()).f32(8, rms.momentum());
                case OptimizerSpec.Adam adam -> kernel("optimizer", "adam_step", 12).f32(7, adam.beta1()).f32(8, adam.beta2())
                        .f32(9, adam.eps()).f32(10, adam.weightDecay()).i32(11, adam.decoupled() ? 1 : 0);
            };
            kernel.i64(3, elements).range(elements, CudaBackend.GROUP);
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
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(kernel, 0, op, "params", params);
            backend.tensor(kernel, 1, op, "state", state);
            backend.tensor(kernel, 2, op, "grads", grads);
            switch (spec) {
                case OptimizerSpec.Sgd sgd -> kernel.f32(4, lr).i32(9, step == 1 ? 1 : 0);
                case OptimizerSpec.RmsProp rms -> kernel.f32(4, lr);
                case OptimizerSpec.Adam adam -> {
                    double correction1 = 1 - Math.pow(adam.beta1(), step);
                    double correction2 = 1 - Math.pow(adam.beta2(), step);
                    kernel.f32(4, (float) (lr / correction1)).f32(5, (float) (1 / Math.sqrt(correction2)))
                            .f32(6, (float) (1.0 - (double) lr * adam.weightDecay()));
                }
            }
            launch(kernel);
        }
    }
}

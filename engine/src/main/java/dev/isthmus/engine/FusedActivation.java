package dev.isthmus.engine;

/**
 * The activation a {@link Conv2dSpec} fuses, as its backend's {@link EltwisePlan} over the
 * convolution's output: every plan's {@link Conv2dPlan#backwardActivation} runs through it, and
 * plans that cannot fuse the forward into their kernel (the reference, OpenCL and CUDA ones)
 * apply it in place right after the convolution. One place for the shape checks and the
 * "no activation" error, so the backends agree on them.
 */
public final class FusedActivation implements AutoCloseable {
    private final String op;
    private final Shape dstShape;
    private final EltwisePlan plan;   // null when the spec fuses nothing

    /** Plans {@code spec}'s activation on {@code backend}; owns nothing when the spec has none. */
    public FusedActivation(Backend backend, Conv2dSpec spec, String op) {
        this.op = op;
        this.dstShape = spec.dstShape();
        this.plan = spec.hasActivation() ? backend.eltwise(spec.activation(), dstShape.elements()) : null;
    }

    /** dst = f(dst) after an unfused convolution; nothing when the spec has no activation. */
    public void applyInPlace(Tensor dst) {
        if (plan != null) plan.forward(dst, dst);
    }

    /** {@link Conv2dPlan#backwardActivation}: checks, then diffPre = diffDst * f'(dst). */
    public void backward(Tensor diffPre, Tensor diffDst, Tensor dst) {
        if (plan == null) {
            throw new IllegalStateException(op + " has no fused activation: pass diffDst to backwardData and backwardWeights as it is");
        }
        Checks.tensor(op, "diffPre", diffPre, dstShape, DType.F32);
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        plan.backward(diffPre, diffDst, dst);
    }

    @Override public void close() {
        if (plan != null) plan.close();
    }
}

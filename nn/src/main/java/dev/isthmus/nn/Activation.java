package dev.isthmus.nn;

import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * What the element-wise activation layers share: one plan, an output buffer, a gradient buffer.
 * When its model fuses it into the convolution before it ({@link Sequential#fuseActivations}),
 * the layer owns nothing and passes values and gradients through: the convolution's plan
 * computes the activation and its backward.
 */
abstract sealed class Activation extends AbstractLayer permits ReLU, Tanh, ScaledTanh, Sigmoid {
    private final EltwiseKind kind;
    private EltwisePlan plan;
    private Tensor dst;
    private Tensor diffSrc;
    private boolean fused;

    Activation(EltwiseKind kind) {
        this.kind = kind;
    }

    EltwiseKind kind() { return kind; }

    @Override public Shape outputShape(Shape input) { return input; }

    @Override public void compile(CompileContext ctx) {
        fused = ctx.fusedIntoPrevious();
        if (fused) {
            ctx.passThrough();
            return;
        }
        plan = ctx.own(ctx.backend().eltwise(kind, ctx.batchedInput().elements()));
        dst = ctx.allocate(ctx.batchedOutput());
        diffSrc = ctx.training() ? ctx.allocateBackward(ctx.batchedInput()) : null;
    }

    @Override public Tensor forward(Tensor input, boolean training) {
        if (fused) return input;
        plan.forward(dst, input);
        return dst;
    }

    @Override public Tensor backward(Tensor diffDst, boolean needInputGradient) {
        if (!needInputGradient) return null;
        if (fused) return diffDst;
        plan.backward(diffSrc, diffDst, dst);
        return diffSrc;
    }

    @Override public void close() {
        plan = null;
        dst = diffSrc = null;
    }

    @Override public String toString() { return getClass().getSimpleName() + "()"; }
}

package dev.isthmus.nn;

import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/** What the element-wise activation layers share: one plan, an output buffer, a gradient buffer. */
abstract sealed class Activation extends AbstractLayer permits ReLU, Tanh, ScaledTanh, Sigmoid {
    private final EltwiseKind kind;
    private EltwisePlan plan;
    private Tensor dst;
    private Tensor diffSrc;

    Activation(EltwiseKind kind) {
        this.kind = kind;
    }

    @Override public Shape outputShape(Shape input) { return input; }

    @Override public void compile(CompileContext ctx) {
        plan = ctx.own(ctx.backend().eltwise(kind, ctx.batchedInput().elements()));
        dst = ctx.allocate(ctx.batchedOutput());
        diffSrc = ctx.training() ? ctx.allocate(ctx.batchedInput()) : null;
    }

    @Override public Tensor forward(Tensor input, boolean training) {
        plan.forward(dst, input);
        return dst;
    }

    @Override public Tensor backward(Tensor diffDst, boolean needInputGradient) {
        if (!needInputGradient) return null;
        plan.backward(diffSrc, diffDst, dst);
        return diffSrc;
    }

    @Override public void close() {
        plan = null;
        dst = diffSrc = null;
    }

    @Override public String toString() { return getClass().getSimpleName() + "()"; }
}

package dev.isthmus.nn;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import java.util.Map;

/** What {@link MaxPool2d} and {@link AvgPool2d} share: geometry, plan, buffers. */
abstract sealed class Pool2d extends AbstractLayer permits MaxPool2d, AvgPool2d {
    final int kernelSize, stride, padding;
    private final Pool2dSpec.Kind kind;

    private Pool2dPlan plan;
    private Tensor dst;        // (N, C, OH, OW)
    private Tensor diffSrc;    // (N, C, IH, IW)
    private Tensor workspace;  // (bytes) U8, max pooling when training

    Pool2d(int kernelSize, int stride, int padding, Pool2dSpec.Kind kind) {
        this.kernelSize = positive("kernel_size", kernelSize);
        this.stride = positive("stride", stride);
        if (padding < 0 || 2 * padding > kernelSize) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": padding should be in [0, kernel_size/2], got "
                    + padding + " for kernel_size " + kernelSize);
        }
        this.padding = padding;
        this.kind = kind;
    }

    private Pool2dSpec spec(int batch, Shape input) {
        requireRank(input, 3);
        try {
            return new Pool2dSpec(batch, input.dim(0), input.dim(1), input.dim(2),
                    Window.square(kernelSize, stride, padding), kind);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(this + ": input " + input + ": " + e.getMessage(), e);
        }
    }

    @Override public Shape outputShape(Shape input) {
        Pool2dSpec s = spec(1, input);
        return Shape.of(input.dim(0), s.outHeight(), s.outWidth());
    }

    @Override public void compile(CompileContext ctx) {
        plan = ctx.own(ctx.backend().pool2d(spec(ctx.batch(), ctx.input())));
        dst = ctx.allocate(ctx.batchedOutput());
        if (ctx.training()) {
            diffSrc = ctx.allocate(ctx.batchedInput());
            long ws = plan.workspaceBytes();
            workspace = ws > 0 ? ctx.allocate(Shape.of(Math.toIntExact(ws)), DType.U8) : null;
        }
    }

    @Override public Tensor forward(Tensor input, boolean training) {
        if (training) plan.forwardTraining(dst, workspace, input);
        else plan.forwardInference(dst, input);
        return dst;
    }

    @Override public Tensor backward(Tensor diffDst, boolean needInputGradient) {
        if (!needInputGradient) return null;
        plan.backward(diffSrc, diffDst, workspace);
        return diffSrc;
    }

    @Override public void close() {
        plan = null;
        dst = diffSrc = workspace = null;
    }

    /** The constructor's arguments, for a model file's architecture ({@link Architecture}). */
    Map<String, Object> config() {
        return Map.of("kernel_size", kernelSize, "stride", stride, "padding", padding);
    }

    @Override public String toString() {
        return getClass().getSimpleName() + "(" + kernelSize + (stride != kernelSize ? ", stride=" + stride : "")
                + (padding != 0 ? ", padding=" + padding : "") + ")";
    }
}

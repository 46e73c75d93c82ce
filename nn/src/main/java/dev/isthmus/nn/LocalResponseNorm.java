package dev.isthmus.nn;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import java.util.Map;

/**
 * Local response normalisation across channels (torch.nn.LocalResponseNorm, same semantics as
 * oneDNN's LRN):
 *
 * <pre>
 *   b[c] = a[c] / (k + alpha/size * sum_{c' = c-(size-1)/2 .. c+size/2} a[c']^2)^beta
 *   input, output  (C, H, W) per sample
 * </pre>
 *
 * alpha is divided by size, as in PyTorch and oneDNN: Krizhevsky et al. 2012 write the sum
 * without that division, so their n = 5, alpha = 1e-4, beta = 0.75, k = 2 is
 * {@code new LocalResponseNorm(5, 5e-4f, 0.75f, 2f)} here. When training, the forward keeps
 * the backend's workspace (if it needs one) for the backward.
 */
public final class LocalResponseNorm extends AbstractLayer {
    private final int size;
    private final float alpha, beta, k;

    private LrnPlan plan;
    private Tensor dst;         // (N, C, H, W)
    private Tensor diffSrc;     // (N, C, H, W)
    private Tensor workspace;   // (bytes) U8, when training and the backend keeps one
    private Tensor src;         // the input of the last forward

    /** PyTorch's defaults: alpha 1e-4, beta 0.75, k 1. */
    public LocalResponseNorm(int size) { this(size, 1e-4f, 0.75f, 1f); }

    public LocalResponseNorm(int size, float alpha, float beta, float k) {
        this.size = positive("size", size);
        if (!(alpha >= 0) || Float.isInfinite(alpha) || !(beta >= 0) || Float.isInfinite(beta)
                || !(k > 0) || Float.isInfinite(k)) {
            throw new IllegalArgumentException("LocalResponseNorm: alpha and beta must be finite and >= 0 and k finite"
                    + " and > 0, got alpha " + alpha + ", beta " + beta + ", k " + k);
        }
        this.alpha = alpha;
        this.beta = beta;
        this.k = k;
    }

    private LrnSpec spec(int batch, Shape input) {
        requireRank(input, 3);
        return new LrnSpec(batch, input.dim(0), input.dim(1), input.dim(2), size, alpha, beta, k);
    }

    @Override public Shape outputShape(Shape input) {
        spec(1, input);
        return input;
    }

    @Override public void compile(CompileContext ctx) {
        plan = ctx.own(ctx.backend().lrn(spec(ctx.batch(), ctx.input())));
        dst = ctx.allocate(ctx.batchedOutput());
        if (ctx.training()) {
            diffSrc = ctx.allocate(ctx.batchedInput());
            long ws = plan.workspaceBytes();
            workspace = ws > 0 ? ctx.allocate(Shape.of(Math.toIntExact(ws)), DType.U8) : null;
        }
    }

    @Override public Tensor forward(Tensor input, boolean training) {
        src = input;
        if (training) plan.forwardTraining(dst, workspace, input);
        else plan.forwardInference(dst, input);
        return dst;
    }

    @Override public Tensor backward(Tensor diffDst, boolean needInputGradient) {
        if (!needInputGradient) return null;
        plan.backward(diffSrc, diffDst, src, workspace);
        return diffSrc;
    }

    @Override public void close() {
        plan = null;
        dst = diffSrc = workspace = src = null;
    }

    /** The constructor's arguments, for a model file's architecture ({@link Architecture}). */
    Map<String, Object> config() {
        return Map.of("size", size, "alpha", (double) alpha, "beta", (double) beta, "k", (double) k);
    }

    @Override public String toString() {
        return "LocalResponseNorm(" + size + ", alpha=" + alpha + ", beta=" + beta + ", k=" + k + ")";
    }
}

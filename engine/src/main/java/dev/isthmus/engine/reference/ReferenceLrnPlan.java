package dev.isthmus.engine.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * Local response normalisation across channels as the definition ({@link LrnSpec}; oneDNN's
 * lrn_across_channels, https://uxlfoundation.github.io/oneDNN/dev_guide_lrn.html, and
 * torch.nn.LocalResponseNorm), every value in double, one output at a time:
 *
 * <pre>
 *   s(c)       = k + alpha/size sum_{c' in window(c)} src(c')^2,  window(c) = [c - (size-1)/2, c + size/2] clipped
 *   dst(c)     = src(c) s(c)^-beta
 *   diffSrc(j) = diffDst(j) s(j)^-beta
 *              - 2 beta alpha/size src(j) sum_{i : j in window(i)} diffDst(i) src(i) s(i)^(-beta-1)
 *   j in window(i)  iff  i in [j - size/2, j + (size-1)/2]
 *   src, dst, diffSrc, diffDst  (N, C, H, W); all at one (n, h, w)
 * </pre>
 *
 * The backward recomputes the scales from src, so there is no workspace: callers pass null
 * (a U8 tensor is accepted and ignored, as by the opencl backend).
 */
final class ReferenceLrnPlan implements LrnPlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final LrnSpec spec;
    private final String op;
    private final Shape shape;
    private final int batch, channels, size;
    private final long hw;
    private final double alphaOverSize, beta, k;

    ReferenceLrnPlan(LrnSpec spec) {
        this.spec = spec;
        this.op = "reference " + spec;
        this.shape = spec.shape();
        this.batch = spec.batch();
        this.channels = spec.channels();
        this.size = spec.size();
        this.hw = (long) spec.height() * spec.width();
        this.alphaOverSize = (double) spec.alpha() / spec.size();
        this.beta = spec.beta();
        this.k = spec.k();
    }

    @Override public LrnSpec spec() { return spec; }

    @Override public long workspaceBytes() { return 0; }

    @Override public void forwardTraining(Tensor dst, Tensor workspace, Tensor src) {
        Checks.optionalWorkspace(op, workspace, 0);
        forwardInference(dst, src);
    }

    @Override public void forwardInference(Tensor dst, Tensor src) {
        Checks.tensor(op, "dst", dst, shape, DType.F32);
        Checks.tensor(op, "src", src, shape, DType.F32);
        MemorySegment d = dst.segment(), x = src.segment();
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
                for (long p = 0; p < hw; p++) {
                    long at = index(n, c, p);
                    d.setAtIndex(F, at, (float) (x.getAtIndex(F, at) * Math.pow(scale(x, n, c, p), -beta)));
                }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor src, Tensor workspace) {
        Checks.tensor(op, "diffSrc", diffSrc, shape, DType.F32);
        Checks.tensor(op, "diffDst", diffDst, shape, DType.F32);
        Checks.tensor(op, "src", src, shape, DType.F32);
        Checks.optionalWorkspace(op, workspace, 0);
        MemorySegment ds = diffSrc.segment(), dy = diffDst.segment(), x = src.segment();
        for (int n = 0; n < batch; n++)
            for (int j = 0; j < channels; j++)
                for (long p = 0; p < hw; p++) {
                    double acc = 0;
                    for (int i = Math.max(0, j - size / 2); i <= Math.min(channels - 1, j + (size - 1) / 2); i++) {
                        long at = index(n, i, p);
                        acc += dy.getAtIndex(F, at) * (double) x.getAtIndex(F, at) * Math.pow(scale(x, n, i, p), -beta - 1);
                    }
                    long at = index(n, j, p);
                    double value = dy.getAtIndex(F, at) * Math.pow(scale(x, n, j, p), -beta)
                            - 2 * alphaOverSize * beta * x.getAtIndex(F, at) * acc;
                    ds.setAtIndex(F, at, (float) value);
                }
    }

    /** s(c) = k + alpha/size sum over window(c) of src^2, at image n and position p = h W + w. */
    private double scale(MemorySegment x, int n, int c, long p) {
        double sum = 0;
        for (int i = Math.max(0, c - (size - 1) / 2); i <= Math.min(channels - 1, c + size / 2); i++) {
            double v = x.getAtIndex(F, index(n, i, p));
            sum += v * v;
        }
        return k + alphaOverSize * sum;
    }

    private long index(int n, int c, long p) { return ((long) n * channels + c) * hw + p; }

    @Override public void close() {}

    @Override public String toString() { return op; }
}

package dev.isthmus.engine.opencl;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * Local response normalisation across channels (lrn.cl), one work-item per element. The
 * backward recomputes the scales from src instead of keeping them, so the workspace is 0 bytes:
 * callers pass null (a U8 tensor is accepted and ignored, for callers that always allocate one).
 *
 * <pre>
 *   src, dst, diffSrc, diffDst (N, C, H, W)
 * </pre>
 */
final class OpenClLrnPlan extends OpenClPlan implements LrnPlan {
    private final LrnSpec spec;
    private final Shape shape;
    private final Cl.Kernel forward, backward;

    OpenClLrnPlan(OpenClBackend backend, LrnSpec spec) {
        super(backend, "opencl " + spec);
        this.spec = spec;
        this.shape = spec.shape();
        long hw = (long) spec.height() * spec.width();
        try {
            synchronized (backend.lock()) {
                forward = kernel("lrn", "lrn_forward");
                backward = kernel("lrn", "lrn_backward");
                geometry(forward, 4, hw);
                geometry(backward, 6, hw);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void geometry(Cl.Kernel k, int first, long hw) {
        k.i32(first, spec.batch()).i32(first + 1, spec.channels()).i64(first + 2, hw).i32(first + 3, spec.size())
                .f32(first + 4, spec.alpha()).f32(first + 5, spec.beta()).f32(first + 6, spec.k())
                .range(shape.elements(), OpenClBackend.GROUP);
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
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(forward, 0, op, "dst", dst);
            backend.tensor(forward, 2, op, "src", src);
            backend.queue().run(forward);
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor src, Tensor workspace) {
        Checks.tensor(op, "diffSrc", diffSrc, shape, DType.F32);
        Checks.tensor(op, "diffDst", diffDst, shape, DType.F32);
        Checks.tensor(op, "src", src, shape, DType.F32);
        Checks.optionalWorkspace(op, workspace, 0);
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(backward, 0, op, "diffSrc", diffSrc);
            backend.tensor(backward, 2, op, "diffDst", diffDst);
            backend.tensor(backward, 4, op, "src", src);
            backend.queue().run(backward);
        }
    }
}

package dev.isthmus.engine.cuda;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * Local response normalisation across channels (lrn.cu), one thread per element. The backward
 * recomputes the scales from src instead of keeping them, so the workspace is 0 bytes: callers
 * pass null (a U8 tensor is accepted and ignored, for callers that always allocate one). The twin
 * of the opencl backend's plan.
 *
 * <pre>
 *   src, dst, diffSrc, diffDst (N, C, H, W)
 * </pre>
 */
final class CudaLrnPlan extends CudaPlan implements LrnPlan {
    private final LrnSpec spec;
    private final Shape shape;
    private final Cu.Kernel forward, backward;

    CudaLrnPlan(CudaBackend backend, LrnSpec spec) {
        super(backend, "cuda " + spec);
        this.spec = spec;
        this.shape = spec.shape();
        long hw = (long) spec.height() * spec.width();
        try {
            forward = geometry(kernel("lrn", "lrn_forward", 9), 2, hw);
            backward = geometry(kernel("lrn", "lrn_backward", 10), 3, hw);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private Cu.Kernel geometry(Cu.Kernel k, int first, long hw) {
        return k.i32(first, spec.batch()).i32(first + 1, spec.channels()).i64(first + 2, hw).i32(first + 3, spec.size())
                .f32(first + 4, spec.alpha()).f32(first + 5, spec.beta()).f32(first + 6, spec.k())
                .range(shape.elements(), CudaBackend.GROUP);
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
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(forward, 0, op, "dst", dst);
            backend.tensor(forward, 1, op, "src", src);
            launch(forward);
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor src, Tensor workspace) {
        Checks.tensor(op, "diffSrc", diffSrc, shape, DType.F32);
        Checks.tensor(op, "diffDst", diffDst, shape, DType.F32);
        Checks.tensor(op, "src", src, shape, DType.F32);
        Checks.optionalWorkspace(op, workspace, 0);
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(backward, 0, op, "diffSrc", diffSrc);
            backend.tensor(backward, 1, op, "diffDst", diffDst);
            backend.tensor(backward, 2, op, "src", src);
            launch(backward);
        }
    }
}

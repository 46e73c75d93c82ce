package dev.isthmus.engine.opencl;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;

/**
 * Max and average pooling (pool.cl): one work-item per dst value forward, one per src value
 * backward (a gather over the covering windows). Semantics and workspace format as
 * {@code ReferencePool2dPlan}: max pooling keeps, per dst value, the int32 index {@code ih IW + iw}
 * of its first maximum within the input plane, 4 bytes per dst element; a workspace view must
 * start at a multiple of 4 bytes.
 *
 * <pre>
 *   src (N, C, IH, IW)   dst (N, C, OH, OW)
 * </pre>
 */
final class OpenClPool2dPlan extends OpenClPlan implements Pool2dPlan {
    private final Pool2dSpec spec;
    private final Shape srcShape, dstShape;
    private final long workspaceBytes;
    private final boolean max;
    private final Cl.Kernel forward, backward;

    OpenClPool2dPlan(OpenClBackend backend, Pool2dSpec spec) {
        super(backend, "opencl " + spec);
        this.spec = spec;
        srcShape = spec.srcShape();
        dstShape = spec.dstShape();
        max = spec.kind() == Pool2dSpec.Kind.MAX;
        workspaceBytes = max ? 4 * dstShape.elements() : 0;
        if (srcShape.elements() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": tensors over 2^31 elements are not supported by the opencl backend");
        }
        Window w = spec.window();
        int[] geometry = {spec.batch() * spec.channels(), spec.inHeight(), spec.inWidth(), spec.outHeight(), spec.outWidth(),
                w.kernelHeight(), w.kernelWidth(), w.strideHeight(), w.strideWidth(), w.padTop(), w.padLeft(),
                spec.kind() == Pool2dSpec.Kind.AVG_EXCLUDE_PADDING ? 1 : 0};
        try {
            synchronized (backend.lock()) {
                if (max) {
                    forward = kernel("pool", "pool_max_forward").ints(6, geometry);
                    backward = kernel("pool", "pool_max_backward").ints(6, geometry);
                } else {
                    forward = kernel("pool", "pool_avg_forward").ints(4, geometry);
                    backward = kernel("pool", "pool_avg_backward").ints(4, geometry);
                }
                forward.range(dstShape.elements(), OpenClBackend.GROUP);
                backward.range(srcShape.elements(), OpenClBackend.GROUP);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override public Pool2dSpec spec() { return spec; }

    @Override public long workspaceBytes() { return workspaceBytes; }

    @Override public void forwardTraining(Tensor dst, Tensor workspace, Tensor src) {
        Checks.poolWorkspace(op, workspace, workspaceBytes);
        forward(dst, src, workspace);
    }

    @Override public void forwardInference(Tensor dst, Tensor src) {
        forward(dst, src, null);
    }

    private void forward(Tensor dst, Tensor src, Tensor workspace) {
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(forward, 0, op, "dst", dst);
            int next = 2;
            if (max) {
                if (workspace != null) backend.intWorkspace(forward, 2, op, "workspace", workspace);
                else OpenClBackend.none(forward, 2);
                next = 4;
            }
            backend.tensor(forward, next, op, "src", src);
            backend.queue().run(forward);
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor workspace) {
        Checks.tensor(op, "diffSrc", diffSrc, srcShape, DType.F32);
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.poolWorkspace(op, workspace, workspaceBytes);
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(backward, 0, op, "diffSrc", diffSrc);
            backend.tensor(backward, 2, op, "diffDst", diffDst);
            if (max) backend.intWorkspace(backward, 4, op, "workspace", workspace);
            backend.queue().run(backward);
        }
    }
}

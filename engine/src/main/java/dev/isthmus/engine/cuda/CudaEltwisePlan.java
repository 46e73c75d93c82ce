package dev.isthmus.engine.cuda;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Tensor;

/**
 * Element-wise activations (eltwise.cu), one thread per element; the backward computes f'(x)
 * from the forward's output, as {@link EltwiseKind#derivativeFromOutput}. In place is allowed
 * (each thread reads its element before writing it). The twin of the opencl backend's plan.
 */
final class CudaEltwisePlan extends CudaPlan implements EltwisePlan {
    private final EltwiseKind kind;
    private final long elements;
    private final Cu.Kernel forward, backward;

    CudaEltwisePlan(CudaBackend backend, EltwiseKind kind, long elements) {
        super(backend, "cuda eltwise(" + kind + ", " + elements + ")");
        this.kind = kind;
        this.elements = Checks.positive("eltwise elements", elements);
        try {
            forward = kernel("eltwise", "eltwise_forward", 4).i64(2, elements).i32(3, kind.ordinal())
                    .range(elements, CudaBackend.GROUP);
            backward = kernel("eltwise", "eltwise_backward", 5).i64(3, elements).i32(4, kind.ordinal())
                    .range(elements, CudaBackend.GROUP);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override public EltwiseKind kind() { return kind; }

    @Override public long elements() { return elements; }

    @Override public void forward(Tensor dst, Tensor src) {
        Checks.elements(op, "dst", dst, elements);
        Checks.elements(op, "src", src, elements);
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(forward, 0, op, "dst", dst);
            backend.tensor(forward, 1, op, "src", src);
            launch(forward);
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor dst) {
        Checks.elements(op, "diffSrc", diffSrc, elements);
        Checks.elements(op, "diffDst", diffDst, elements);
        Checks.elements(op, "dst", dst, elements);
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(backward, 0, op, "diffSrc", diffSrc);
            backend.tensor(backward, 1, op, "diffDst", diffDst);
            backend.tensor(backward, 2, op, "dst", dst);
            launch(backward);
        }
    }
}

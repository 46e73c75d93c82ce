package dev.isthmus.engine.opencl;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Tensor;

/**
 * Element-wise activations (eltwise.cl), one work-item per element; the backward computes
 * f'(x) from the forward's output, as {@link EltwiseKind#derivativeFromOutput}. In place is
 * allowed (each item reads its element before writing it).
 */
final class OpenClEltwisePlan extends OpenClPlan implements EltwisePlan {
    private final EltwiseKind kind;
    private final long elements;
    private final Cl.Kernel forward, backward;

    OpenClEltwisePlan(OpenClBackend backend, EltwiseKind kind, long elements) {
        super(backend, "opencl eltwise(" + kind + ", " + elements + ")");
        this.kind = kind;
        this.elements = Checks.positive("eltwise elements", elements);
        try {
            synchronized (backend.lock()) {
                forward = kernel("eltwise", "eltwise_forward").i64(4, elements).i32(5, kind.ordinal())
                        .range(elements, OpenClBackend.GROUP);
                backward = kernel("eltwise", "eltwise_backward").i64(6, elements).i32(7, kind.ordinal())
                        .range(elements, OpenClBackend.GROUP);
            }
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
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(forward, 0, op, "dst", dst);
            backend.tensor(forward, 2, op, "src", src);
            backend.queue().run(forward);
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor dst) {
        Checks.elements(op, "diffSrc", diffSrc, elements);
        Checks.elements(op, "diffDst", diffDst, elements);
        Checks.elements(op, "dst", dst, elements);
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(backward, 0, op, "diffSrc", diffSrc);
            backend.tensor(backward, 2, op, "diffDst", diffDst);
            backend.tensor(backward, 4, op, "dst", dst);
            backend.queue().run(backward);
        }
    }
}

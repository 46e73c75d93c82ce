package dev.isthmus.engine.cpu;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Tensor;

/**
 * An {@link EltwisePlan} on host tensors over {@link EltwiseKernels}: single-threaded,
 * nothing allocated per call, owns nothing native. Tensors may have any shape with
 * {@code elements} float32 elements.
 */
public final class CpuEltwisePlan implements EltwisePlan {
    private final EltwiseKind kind;
    private final long elements;
    private final String op;

    public CpuEltwisePlan(EltwiseKind kind, long elements) {
        if (kind == null) throw new IllegalArgumentException("eltwise kind is null");
        this.kind = kind;
        this.elements = Checks.positive("eltwise elements", elements);
        this.op = "eltwise(" + kind + ", " + elements + ")";
    }

    @Override public EltwiseKind kind() { return kind; }

    @Override public long elements() { return elements; }

    @Override public void forward(Tensor dst, Tensor src) {
        Checks.elements(op, "dst", dst, elements);
        Checks.elements(op, "src", src, elements);
        EltwiseKernels.forward(kind, dst.segment(), src.segment(), elements);
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor dst) {
        Checks.elements(op, "diffSrc", diffSrc, elements);
        Checks.elements(op, "diffDst", diffDst, elements);
        Checks.elements(op, "dst", dst, elements);
        EltwiseKernels.backward(kind, diffSrc.segment(), diffDst.segment(), dst.segment(), elements);
    }

    @Override public void close() {}

    @Override public String toString() { return "cpu " + op; }
}

package dev.isthmus.engine.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Tensor;

/** Element-wise activations by their definitions, {@link EltwiseKind#apply} and {@link EltwiseKind#derivativeFromOutput}. */
final class ReferenceEltwisePlan implements EltwisePlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final EltwiseKind kind;
    private final long elements;
    private final String op;

    ReferenceEltwisePlan(EltwiseKind kind, long elements) {
        if (kind == null) throw new IllegalArgumentException("eltwise kind is null");
        this.kind = kind;
        this.elements = Checks.positive("eltwise elements", elements);
        this.op = "reference eltwise(" + kind + ", " + elements + ")";
    }

    @Override public EltwiseKind kind() { return kind; }

    @Override public long elements() { return elements; }

    @Override public void forward(Tensor dst, Tensor src) {
        Checks.elements(op, "dst", dst, elements);
        Checks.elements(op, "src", src, elements);
        MemorySegment d = dst.segment(), s = src.segment();
        for (long i = 0; i < elements; i++) d.setAtIndex(F, i, kind.apply(s.getAtIndex(F, i)));
    }

    /** diffSrc = diffDst f'(x), with f' from the forward's output. */
    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor dst) {
        Checks.elements(op, "diffSrc", diffSrc, elements);
        Checks.elements(op, "diffDst", diffDst, elements);
        Checks.elements(op, "dst", dst, elements);
        MemorySegment ds = diffSrc.segment(), dd = diffDst.segment(), y = dst.segment();
        for (long i = 0; i < elements; i++) {
            ds.setAtIndex(F, i, dd.getAtIndex(F, i) * kind.derivativeFromOutput(y.getAtIndex(F, i)));
        }
    }

    @Override public void close() {}

    @Override public String toString() { return op; }
}

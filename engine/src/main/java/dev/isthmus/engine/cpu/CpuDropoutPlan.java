package dev.isthmus.engine.cpu;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.Tensor;

/**
 * A {@link DropoutPlan} on host tensors over {@link DropoutKernels}: the mask is
 * {@link DropoutPlan#keep} bit for bit, survivors are multiplied by {@code (float) (1 / (1 - p))};
 * single-threaded, nothing allocated per call, owns nothing native.
 *
 * <pre>
 *   src, dst, diffSrc, diffDst  any shape with {@code elements} F32 values   mask  {@code elements} U8, any shape
 * </pre>
 */
public final class CpuDropoutPlan implements DropoutPlan {
    private final long elements;
    private final float p;
    private final String op;

    public CpuDropoutPlan(long elements, float p) {
        this.elements = Checks.positive("dropout elements", elements);
        this.p = Checks.inRange("dropout probability", p, 0f, 1f);
        this.op = "dropout(" + elements + ", p=" + p + ")";
    }

    @Override public long elements() { return elements; }

    @Override public float probability() { return p; }

    @Override public void forwardTraining(Tensor dst, Tensor mask, Tensor src, long seed) {
        Checks.elements(op, "dst", dst, elements);
        Checks.workspace(op, "mask", mask, elements);
        Checks.elements(op, "src", src, elements);
        DropoutKernels.forward(dst.segment(), mask.segment(), src.segment(), elements, seed, p);
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor mask) {
        Checks.elements(op, "diffSrc", diffSrc, elements);
        Checks.elements(op, "diffDst", diffDst, elements);
        Checks.workspace(op, "mask", mask, elements);
        DropoutKernels.backward(diffSrc.segment(), diffDst.segment(), mask.segment(), elements, p);
    }

    @Override public void close() {}

    @Override public String toString() { return "cpu " + op; }
}

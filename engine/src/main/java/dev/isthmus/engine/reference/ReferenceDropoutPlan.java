package dev.isthmus.engine.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.Tensor;

/**
 * Inverted dropout as the definition (torch.nn.Dropout): element i survives iff
 * {@link DropoutPlan#keep}(seed, i, p), its mask byte is 1 (else 0), and a survivor is
 * multiplied by the float {@code scale = (float) (1 / (1 - p))}, one rounding, as on every
 * backend; p = 0 keeps everything with scale 1.
 *
 * <pre>
 *   src, dst, diffSrc, diffDst  any shape with {@code elements} F32 values   mask  {@code elements} U8
 *   dst[i]     = keep(seed, i, p) ? src[i] scale : 0
 *   diffSrc[i] = mask[i] != 0 ? diffDst[i] scale : 0
 * </pre>
 */
final class ReferenceDropoutPlan implements DropoutPlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;

    private final long elements;
    private final float p, scale;
    private final String op;

    ReferenceDropoutPlan(long elements, float p) {
        this.elements = Checks.positive("dropout elements", elements);
        this.p = Checks.inRange("dropout probability", p, 0f, 1f);
        this.scale = (float) (1.0 / (1.0 - p));
        this.op = "reference dropout(" + elements + ", p=" + p + ")";
    }

    @Override public long elements() { return elements; }

    @Override public float probability() { return p; }

    @Override public void forwardTraining(Tensor dst, Tensor mask, Tensor src, long seed) {
        Checks.elements(op, "dst", dst, elements);
        Checks.workspace(op, "mask", mask, elements);
        Checks.elements(op, "src", src, elements);
        MemorySegment d = dst.segment(), m = mask.segment(), s = src.segment();
        for (long i = 0; i < elements; i++) {
            boolean keep = DropoutPlan.keep(seed, i, p);
            m.set(B, i, (byte) (keep ? 1 : 0));
            d.setAtIndex(F, i, keep ? s.getAtIndex(F, i) * scale : 0f);
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor mask) {
        Checks.elements(op, "diffSrc", diffSrc, elements);
        Checks.elements(op, "diffDst", diffDst, elements);
        Checks.workspace(op, "mask", mask, elements);
        MemorySegment ds = diffSrc.segment(), dd = diffDst.segment(), m = mask.segment();
        for (long i = 0; i < elements; i++) {
            ds.setAtIndex(F, i, m.get(B, i) != 0 ? dd.getAtIndex(F, i) * scale : 0f);
        }
    }

    @Override public void close() {}

    @Override public String toString() { return op; }
}

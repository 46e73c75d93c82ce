package dev.isthmus.engine.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * A fully connected layer by its definition (oneDNN's inner product), double accumulators:
 *
 * <pre>
 *   dst(n, o)          = bias(o) + sum_i src(n, i) weights(o, i)
 *   diffSrc(n, i)      = sum_o diffDst(n, o) weights(o, i)
 *   diffWeights(o, i)  = sum_n diffDst(n, o) src(n, i)
 *   diffBias(o)        = sum_n diffDst(n, o)
 * </pre>
 *
 * src and diffSrc may have any shape with N * IC elements (a (N, C, H, W) activation).
 */
final class ReferenceLinearPlan implements LinearPlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final LinearSpec spec;
    private final String op;
    private final Shape dstShape, weightsShape, biasShape;
    private final int n, in, out;

    ReferenceLinearPlan(LinearSpec spec) {
        this.spec = spec;
        this.op = "reference " + spec;
        dstShape = spec.dstShape();
        weightsShape = spec.weightsShape();
        biasShape = spec.hasBias() ? spec.biasShape() : null;   // null: no bias
        n = spec.batch(); in = spec.inFeatures(); out = spec.outFeatures();
    }

    @Override public LinearSpec spec() { return spec; }

    @Override public void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias) {
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.elements(op, "src", src, (long) n * in);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        Checks.bias(op, "bias", bias, biasShape, "layer");
        MemorySegment d = dst.segment(), s = src.segment(), w = weights.segment();
        MemorySegment b = bias == null ? null : bias.segment();
        for (int r = 0; r < n; r++)
            for (int o = 0; o < out; o++) {
                double acc = b == null ? 0 : b.getAtIndex(F, o);
                for (int i = 0; i < in; i++) acc += (double) s.getAtIndex(F, (long) r * in + i) * w.getAtIndex(F, (long) o * in + i);
                d.setAtIndex(F, (long) r * out + o, (float) acc);
            }
    }

    @Override public void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights) {
        Checks.elements(op, "diffSrc", diffSrc, (long) n * in);
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        MemorySegment ds = diffSrc.segment(), dd = diffDst.segment(), w = weights.segment();
        for (int r = 0; r < n; r++)
            for (int i = 0; i < in; i++) {
                double acc = 0;
                for (int o = 0; o < out; o++) acc += (double) dd.getAtIndex(F, (long) r * out + o) * w.getAtIndex(F, (long) o * in + i);
                ds.setAtIndex(F, (long) r * in + i, (float) acc);
            }
    }

    @Override public void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src) {
        Checks.tensor(op, "diffWeights", diffWeights, weightsShape, DType.F32);
        Checks.bias(op, "diffBias", diffBias, biasShape, "layer");
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.elements(op, "src", src, (long) n * in);
        MemorySegment dw = diffWeights.segment(), dd = diffDst.segment(), s = src.segment();
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++) {
                double acc = 0;
                for (int r = 0; r < n; r++) acc += (double) dd.getAtIndex(F, (long) r * out + o) * s.getAtIndex(F, (long) r * in + i);
                dw.setAtIndex(F, (long) o * in + i, (float) acc);
            }
        if (diffBias != null) {
            MemorySegment db = diffBias.segment();
            for (int o = 0; o < out; o++) {
                double acc = 0;
                for (int r = 0; r < n; r++) acc += dd.getAtIndex(F, (long) r * out + o);
                db.setAtIndex(F, o, (float) acc);
            }
        }
    }

    @Override public void close() {}

    @Override public String toString() { return op; }
}

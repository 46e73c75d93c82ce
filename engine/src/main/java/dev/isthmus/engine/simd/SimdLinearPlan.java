package dev.isthmus.engine.simd;

import dev.isthmus.engine.cpu.ThreadTeam;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * A fully connected layer (oneDNN's inner product) as three SGEMMs split over the pool:
 *
 * <pre>
 *   dst (N, OC)          = src (N, IC) . weights^T (IC, OC) [+ bias, pre-filled, beta 1]
 *   diffSrc (N, IC)      = diffDst (N, OC) . weights (OC, IC)
 *   diffWeights (OC, IC) = diffDst^T (OC, N) . src (N, IC);   diffBias (OC) = column sums of diffDst
 * </pre>
 *
 * src and diffSrc may have any shape with N IC elements. A forward of at most
 * {@link Gemv#MAX_ROWS} rows (inference at batch 1) skips the GEMM's packing of the weights:
 * {@link Gemv} streams each weight row once, the output rows split over the pool.
 */
final class SimdLinearPlan implements LinearPlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final LinearSpec spec;
    private final String op;
    private final Shape dstShape, weightsShape, biasShape;
    private final int n, in, out;
    private final Sgemm sgemm;
    private final ThreadTeam pool;
    private final int gemvTasks;   // > 0: the forward is a Gemv split into this many tasks

    SimdLinearPlan(LinearSpec spec, ThreadTeam pool) {
        this.spec = spec;
        this.pool = pool;
        this.op = "simd " + spec;
        dstShape = spec.dstShape();
        weightsShape = spec.weightsShape();
        biasShape = spec.hasBias() ? spec.biasShape() : null;   // null: no bias
        n = spec.batch(); in = spec.inFeatures(); out = spec.outFeatures();
        sgemm = new Sgemm(pool, Math.max(n, out), Math.max(in, out), Math.max(n, Math.max(in, out)));
        // at least 64 output rows per task: below that a task's hand-off costs more than its work
        gemvTasks = n <= Gemv.MAX_ROWS ? Math.max(1, Math.min(pool.threads(), out / 64)) : 0;
    }

    @Override public LinearSpec spec() { return spec; }

    @Override public void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias) {
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.elements(op, "src", src, (long) n * in);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        Checks.bias(op, "bias", bias, biasShape, "layer");
        MemorySegment d = dst.segment();
        if (bias != null) {
            MemorySegment b = bias.segment();
            for (int r = 0; r < n; r++) MemorySegment.copy(b, 0, d, (long) r * out * 4, (long) out * 4);
        }
        MemorySegment x = src.segment(), w = weights.segment();
        if (gemvTasks > 0) {
            boolean accumulate = bias != null;
            pool.run(gemvTasks, t -> Gemv.rows(x, w, d, n, in, out, rowStart(t), rowStart(t + 1), accumulate));
            return;
        }
        sgemm.gemm(false, true, n, out, in, 1f, x, 0, in, w, 0, in, bias == null ? 0f : 1f, d, 0, out);
    }

    /** Task t's first output row: an even split, on multiples of 4 (Gemv's block) except at the end. */
    private int rowStart(int t) {
        return t == gemvTasks ? out : ThreadTeam.split(out / 4, gemvTasks, t) * 4;
    }

    @Override public void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights) {
        Checks.elements(op, "diffSrc", diffSrc, (long) n * in);
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        sgemm.gemm(false, false, n, in, out, 1f, diffDst.segment(), 0, out, weights.segment(), 0, in, 0f, diffSrc.segment(), 0, in);
    }

    @Override public void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src) {
        Checks.tensor(op, "diffWeights", diffWeights, weightsShape, DType.F32);
        Checks.bias(op, "diffBias", diffBias, biasShape, "layer");
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.elements(op, "src", src, (long) n * in);
        MemorySegment dd = diffDst.segment();
        sgemm.gemm(true, false, out, in, n, 1f, dd, 0, out, src.segment(), 0, in, 0f, diffWeights.segment(), 0, in);
        if (diffBias != null) {
            MemorySegment db = diffBias.segment();
            MemorySegment.copy(dd, 0, db, 0, (long) out * 4);
            for (int r = 1; r < n; r++) Vec.add(db, 0, dd, (long) r * out, out);
        }
    }

    @Override public void close() { sgemm.close(); }

    @Override public String toString() { return op; }
}

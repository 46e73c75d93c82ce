package dev.isthmus.engine.simd;

import dev.isthmus.engine.cpu.ThreadTeam;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.FusedActivation;
import dev.isthmus.engine.cpu.EltwiseKernels;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;

/**
 * Convolution as im2col + SGEMM per image and group (oneDNN's convolution semantics,
 * https://uxlfoundation.github.io/oneDNN/dev_guide_convolution.html; K = ICg KH KW):
 *
 * <pre>
 *   forward:          dst_g (OCg, OH OW)   = W_g (OCg, K) . col_g (K, OH OW) [+ bias, pre-filled, beta 1]
 *   backward-data:    col_g (K, OH OW)     = W_g^T . diffDst_g (OCg, OH OW);  diffSrc_g = col2im(col_g)
 *   backward-weights: diffW_g (OCg, K)    += diffDst_g . col_g^T (over every image);  diffBias = row sums
 * </pre>
 *
 * A 1x1 kernel with stride 1 and no padding needs no im2col: the image is col. A kernel that
 * covers the whole unpadded input (LeNet's C5, one output pixel) is a fully connected layer:
 * one GEMM per group over the whole batch, split over the pool, instead of N matrix-vector
 * products. Otherwise the batch is
 * split into contiguous image ranges, one task each on the backend's pool; every task has
 * its own im2col buffer and GEMM workspace, taken per call from a {@link ScratchPool} (so the
 * plan may run on several threads at once). Backward-weights tasks sum into private buffers
 * that are added in task order afterwards, so results do not depend on timing. With fewer
 * images than threads the GEMMs themselves are split over the pool instead. A fused activation
 * runs on each image-group block of dst right after its GEMM, by the same thread, while the
 * block is still in cache. Kernels 5 wide at stride 1 without padding (LeNet-5's C1 and C3) run
 * their forward and backward-weights as {@link DirectConv}, straight from the image, and their
 * backward-data as the forward of the adjoint: the kernel turned by 180 degrees with input and output
 * channels swapped, over diffDst padded with KH - 1 rows and 4 columns of zeros on each side.
 */
final class SimdConv2dPlan implements Conv2dPlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Conv2dSpec spec;
    private final String op;
    private final ThreadTeam pool;
    private final Shape srcShape, dstShape, weightsShape, biasShape;
    private final int n, ic, oc, groups, icg, ocg, k, ihw, ohw;
    private final boolean direct;   // 1x1, stride 1, no padding: col is the image itself
    private final Sgemm whole;      // non-null when the kernel covers the whole unpadded input: (N, K) products
    private final Im2col lowering;
    private final DirectConv straight;   // non-null for 5-wide kernels at stride 1 unpadded (LeNet's C1, C3): forward and backward-weights without im2col
    private final DirectConv adjoint;    // with straight: backward-data as the forward of the flipped kernel over diffDst padded by KH-1, 4
    private final int padH, padW;        // the padded diffDst plane, (OH + 2 (KH - 1), OW + 8)
    private final int tasks;
    private final Sgemm wide;       // non-null when the batch is smaller than the pool: GEMMs run in parallel
    private final ScratchPool<Scratch> scratch;
    private final EltwiseKind activation;                // null: none
    private final FusedActivation activationBackward;

    SimdConv2dPlan(SimdBackend backend, Conv2dSpec spec, ThreadTeam pool) {
        this.spec = spec;
        this.op = "simd " + spec;
        this.pool = pool;
        this.activation = spec.activation();
        this.activationBackward = new FusedActivation(backend, spec, op);
        srcShape = spec.srcShape(); dstShape = spec.dstShape(); weightsShape = spec.weightsShape();
        biasShape = spec.hasBias() ? spec.biasShape() : null;   // null: no bias
        Window w = spec.window();
        n = spec.batch(); ic = spec.inChannels(); oc = spec.outChannels(); groups = spec.groups();
        icg = ic / groups; ocg = oc / groups;
        k = icg * w.kernelHeight() * w.kernelWidth();
        ihw = spec.inHeight() * spec.inWidth();
        ohw = spec.outHeight() * spec.outWidth();
        direct = w.kernelHeight() == 1 && w.kernelWidth() == 1 && w.strideHeight() == 1 && w.strideWidth() == 1
                && w.padTop() == 0 && w.padLeft() == 0 && w.padBottom() == 0 && w.padRight() == 0;
        boolean covers = spec.outHeight() == 1 && spec.outWidth() == 1 && w.kernelHeight() == spec.inHeight()
                && w.kernelWidth() == spec.inWidth() && w.padTop() == 0 && w.padLeft() == 0 && w.padBottom() == 0
                && w.padRight() == 0;   // then dilation is 0 too, or the kernel would not fit
        whole = covers ? new Sgemm(pool, Math.max(n, ocg), Math.max(ocg, k), Math.max(k, Math.max(n, ocg))) : null;
        straight = !direct && !covers && DirectConv.applies(spec) ? new DirectConv(spec) : null;
        padH = spec.outHeight() + 2 * (w.kernelHeight() - 1);
        padW = spec.outWidth() + 2 * (DirectConv.KW - 1);
        adjoint = straight == null ? null : new DirectConv(new Conv2dSpec(1, oc, padH, padW, ic,
                new Window(w.kernelHeight(), DirectConv.KW, 1, 1, 0, 0, 0, 0, 0, 0), 1, false));
        lowering = new Im2col(icg, spec.inHeight(), spec.inWidth(), spec.outHeight(), spec.outWidth(),
                w.kernelHeight(), w.kernelWidth(), w.strideHeight(), w.strideWidth(), w.padTop(), w.padLeft(),
                w.dilationHeight(), w.dilationWidth());
        tasks = n >= pool.threads() ? pool.threads() : 1;
        // the three products: (OCg, OHW, K), (K, OHW, OCg), (OCg, K, OHW)
        int maxM = Math.max(ocg, k), maxN = Math.max(ohw, k), maxK = Math.max(k, Math.max(ocg, ohw));
        wide = tasks < pool.threads() ? new Sgemm(pool, maxM, maxN, maxK) : null;   // then tasks == 1
        long padded = adjoint == null ? 0 : (long) oc * padH * padW;
        scratch = new ScratchPool<>(() -> new Scratch(tasks, direct ? 0 : (long) k * ohw, (long) oc * k, oc, maxM, maxN, maxK, padded));
    }

    @Override public Conv2dSpec spec() { return spec; }

    @Override public void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias) {
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        Checks.bias(op, "bias", bias, biasShape, "convolution");
        MemorySegment d = dst.segment(), s = src.segment(), wt = weights.segment();
        MemorySegment b = bias == null ? null : bias.segment();
        if (whole != null) {   // dst (N, OC) = src (N, IC IH IW) . W^T per group
            if (b != null) for (int img = 0; img < n; img++) MemorySegment.copy(b, 0, d, (long) img * oc * 4, (long) oc * 4);
            for (int g = 0; g < groups; g++) {
                whole.gemm(false, true, n, ocg, k, 1f, s, (long) g * k, ic * ihw, wt, (long) g * ocg * k, k,
                        b == null ? 0f : 1f, d, (long) g * ocg, oc);
            }
            if (activation != null) EltwiseKernels.forwardRange(activation, d, d, 0, (long) n * oc);
            return;
        }
        Scratch set = scratch.take();
        try {
            pool.run(tasks, t -> {
                Scratch.Task my = set.each[t];
                for (int img = ThreadTeam.split(n, tasks, t), end = ThreadTeam.split(n, tasks, t + 1); img < end; img++) {
                    if (straight != null) {   // one group
                        long dstOff = (long) img * oc * ohw;
                        straight.forward(d, dstOff, s, (long) img * ic * ihw, wt, b);
                        if (activation != null) EltwiseKernels.forwardRange(activation, d, d, dstOff, dstOff + (long) oc * ohw);
                        continue;
                    }
                    for (int g = 0; g < groups; g++) {
                        long srcOff = ((long) img * ic + (long) g * icg) * ihw;
                        long dstOff = ((long) img * oc + (long) g * ocg) * ohw;
                        MemorySegment col = s;
                        long colOff = srcOff;
                        if (!direct) {
                            lowering.im2col(my.col, s, srcOff);
                            col = my.col;
                            colOff = 0;
                        }
                        if (b != null) {
                            for (int o = 0; o < ocg; o++) Vec.fill(d, dstOff + (long) o * ohw, ohw, b.getAtIndex(F, (long) g * ocg + o));
                        }
                        gemm(my, false, false, ocg, ohw, k, wt, (long) g * ocg * k, k, col, colOff, ohw,
                                b == null ? 0f : 1f, d, dstOff, ohw);
                        if (activation != null) EltwiseKernels.forwardRange(activation, d, d, dstOff, dstOff + (long) ocg * ohw);
                    }
                }
            });
        } finally {
            scratch.give(set);
        }
    }

    @Override public void backwardActivation(Tensor diffPre, Tensor diffDst, Tensor dst) {
        activationBackward.backward(diffPre, diffDst, dst);
    }

    @Override public void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights) {
        Checks.tensor(op, "diffSrc", diffSrc, srcShape, DType.F32);
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        MemorySegment ds = diffSrc.segment(), dd = diffDst.segment(), wt = weights.segment();
        if (whole != null) {   // diffSrc (N, IC IH IW) = diffDst (N, OC) . W per group
            for (int g = 0; g < groups; g++) {
                whole.gemm(false, false, n, k, ocg, 1f, dd, (long) g * ocg, oc, wt, (long) g * ocg * k, k,
                        0f, ds, (long) g * k, ic * ihw);
            }
            return;
        }
        Scratch set = scratch.take();
        try {
            if (adjoint != null) flip(wt, set.each[0].flipped);
            pool.run(tasks, t -> {
                Scratch.Task my = set.each[t];
                for (int img = ThreadTeam.split(n, tasks, t), end = ThreadTeam.split(n, tasks, t + 1); img < end; img++) {
                    if (adjoint != null) {   // diffSrc = the flipped kernel over diffDst padded with zeros (the borders stay 0)
                        int kh = spec.window().kernelHeight();
                        for (int o = 0; o < oc; o++)
                            for (int oy = 0; oy < spec.outHeight(); oy++) {
                                Vec.copy(dd, ((long) img * oc + o) * ohw + (long) oy * spec.outWidth(), my.padded,
                                        ((long) o * padH + oy + kh - 1) * padW + DirectConv.KW - 1, spec.outWidth());
                            }
                        adjoint.forward(ds, (long) img * ic * ihw, my.padded, 0, set.each[0].flipped, null);
                        continue;
                    }
                    for (int g = 0; g < groups; g++) {
                        long srcOff = ((long) img * ic + (long) g * icg) * ihw;
                        long dstOff = ((long) img * oc + (long) g * ocg) * ohw;
                        if (direct) {
                            gemm(my, true, false, k, ohw, ocg, wt, (long) g * ocg * k, k, dd, dstOff, ohw, 0f, ds, srcOff, ohw);
                        } else {
                            gemm(my, true, false, k, ohw, ocg, wt, (long) g * ocg * k, k, dd, dstOff, ohw, 0f, my.col, 0, ohw);
                            Vec.fill(ds, srcOff, icg * ihw, 0f);
                            lowering.col2im(ds, srcOff, my.col);
                        }
                    }
                }
            });
        } finally {
            scratch.give(set);
        }
    }

    @Override public void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src) {
        Checks.tensor(op, "diffWeights", diffWeights, weightsShape, DType.F32);
        Checks.bias(op, "diffBias", diffBias, biasShape, "convolution");
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
        MemorySegment dwt = diffWeights.segment(), dd = diffDst.segment(), s = src.segment();
        MemorySegment db = diffBias == null ? null : diffBias.segment();
        if (whole != null) {   // diffW (OCg, K) = diffDst^T (OCg, N) . src (N, K) per group; diffBias = column sums
            for (int g = 0; g < groups; g++) {
                whole.gemm(true, false, ocg, k, n, 1f, dd, (long) g * ocg, oc, s, (long) g * k, ic * ihw,
                        0f, dwt, (long) g * ocg * k, k);
            }
            if (db != null) {
                MemorySegment.copy(dd, 0, db, 0, (long) oc * 4);
                for (int img = 1; img < n; img++) Vec.add(db, 0, dd, (long) img * oc, oc);
            }
            return;
        }
        Scratch set = scratch.take();
        try {
            pool.run(tasks, t -> {
                Scratch.Task my = set.each[t];
                MemorySegment accW = t == 0 ? dwt : my.partialWeights;   // task 0 sums straight into the output
                MemorySegment accB = t == 0 ? db : my.partialBias;
                int first = ThreadTeam.split(n, tasks, t);
                if (straight != null) straight.backwardWeights(accW, dd, (long) oc * ohw, s, (long) ic * ihw, first, ThreadTeam.split(n, tasks, t + 1), my.lanes);
                for (int img = first, end = ThreadTeam.split(n, tasks, t + 1); img < end; img++) {
                    float beta = img == first ? 0f : 1f;
                    for (int g = 0; straight == null && g < groups; g++) {
                        long srcOff = ((long) img * ic + (long) g * icg) * ihw;
                        long dstOff = ((long) img * oc + (long) g * ocg) * ohw;
                        MemorySegment col = s;
                        long colOff = srcOff;
                        if (!direct) {
                            lowering.im2col(my.col, s, srcOff);
                            col = my.col;
                            colOff = 0;
                        }
                        gemm(my, false, true, ocg, k, ohw, dd, dstOff, ohw, col, colOff, ohw, beta, accW, (long) g * ocg * k, k);
                    }
                    if (db != null) {
                        for (int o = 0; o < oc; o++) {
                            float sum = Vec.sum(dd, ((long) img * oc + o) * ohw, ohw);
                            accB.setAtIndex(F, o,
                                    beta == 0f ? sum : accB.getAtIndex(F, o) + sum);
                        }
                    }
                }
            });
            for (int t = 1; t < tasks; t++) {   // in task order: the result does not depend on timing
                Vec.add(dwt, 0, set.each[t].partialWeights, 0, oc * k);
                if (db != null) Vec.add(db, 0, set.each[t].partialBias, 0, oc);
            }
        } finally {
            scratch.give(set);
        }
    }

    /** flipped (IC, OC, KH, KW) = weights (OC, IC, KH, KW) turned by 180 degrees, channels swapped: the adjoint's kernel. */
    private void flip(MemorySegment weights, MemorySegment flipped) {
        int kh = spec.window().kernelHeight(), kw = DirectConv.KW;
        for (int o = 0; o < oc; o++)
            for (int c = 0; c < ic; c++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++) {
                        flipped.setAtIndex(F, (((long) c * oc + o) * kh + ky) * kw + kx,
                                weights.getAtIndex(F, (((long) o * ic + c) * kh + kh - 1 - ky) * kw + kw - 1 - kx));
                    }
    }

    /** One product, on this task's workspace, or split over the pool when the batch cannot fill it. */
    private void gemm(Scratch.Task my, boolean transA, boolean transB, int m, int nn, int kk,
                      MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                      float beta, MemorySegment c, long cOff, int ldc) {
        if (wide != null) {
            wide.gemm(transA, transB, m, nn, kk, 1f, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            Sgemm.gemm(my.workspace, transA, transB, m, nn, kk, 1f, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    @Override public void close() {
        activationBackward.close();
        scratch.close();
        if (wide != null) wide.close();
        if (whole != null) whole.close();
    }

    @Override public String toString() { return op; }

    /** One call's scratch: per task an im2col buffer, a GEMM workspace and backward-weights partial sums. */
    private static final class Scratch implements AutoCloseable {
        final Task[] each;

        Scratch(int tasks, long colFloats, long weightFloats, int biasFloats, int maxM, int maxN, int maxK, long paddedFloats) {
            each = new Task[tasks];
            for (int t = 0; t < tasks; t++) each[t] = new Task(t, colFloats, weightFloats, biasFloats, maxM, maxN, maxK, paddedFloats);
        }

        @Override public void close() { for (Task t : each) t.close(); }

        static final class Task implements AutoCloseable {
            // why shared: the set is made on a caller thread, used on pool threads and freed by close
            private final Arena arena = Arena.ofShared();
            final MemorySegment col;             // (K, OH OW)
            final MemorySegment partialWeights;  // (OC, ICg, KH, KW), tasks > 0 only
            final MemorySegment partialBias;     // (OC), tasks > 0 only
            final Sgemm.Workspace workspace;
            final MemorySegment lanes;           // DirectConv's accumulator lanes
            final MemorySegment padded;          // (OC, OH + 2 (KH - 1), OW + 8) zero borders, for the adjoint; 1 float without
            final MemorySegment flipped;         // (IC, OC, KH, KW) the adjoint's kernel, task 0 only

            Task(int index, long colFloats, long weightFloats, int biasFloats, int maxM, int maxN, int maxK, long paddedFloats) {
                col = arena.allocate(Math.max(1, colFloats) * 4, 64);
                partialWeights = index == 0 ? null : arena.allocate(weightFloats * 4, 64);
                partialBias = index == 0 ? null : arena.allocate((long) biasFloats * 4, 64);
                workspace = new Sgemm.Workspace(maxM, maxN, maxK);
                lanes = arena.allocate(DirectConv.LANE_FLOATS * 4L, 64);
                padded = arena.allocate(Math.max(1, paddedFloats) * 4, 64);   // zeroed: the borders stay 0
                flipped = index == 0 && paddedFloats > 0 ? arena.allocate(weightFloats * 4, 64) : null;
            }

            @Override public void close() {
                workspace.close();
                arena.close();
            }
        }
    }
}

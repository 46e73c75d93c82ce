package dev.isthmus.engine.simd;

import dev.isthmus.engine.cpu.ThreadTeam;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;

/**
 * Pooling with the reference backend's semantics exactly (oneDNN's pooling,
 * https://uxlfoundation.github.io/oneDNN/dev_guide_pooling.html): windows clipped to the
 * input, max ties to the first in row-major order, the workspace holding per output the
 * int32 index {@code ih * IW + iw} of the maximum in its plane (4 bytes per dst element),
 * average dividing by KH KW (include padding) or by the clipped window (exclude padding).
 *
 * <p>Planes (N C of them) are split over the backend's pool. Pooling moves far more bytes
 * than it computes and its windows are strided, so there is one plain loop per pass, the
 * same on the vector and the scalar path. Backward zeroes diffSrc and scatters each
 * diffDst value onto its maximum or its window.
 */
final class SimdPool2dPlan implements Pool2dPlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Workspace ints may sit at any byte offset of a U8 tensor. */
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED;

    private final Pool2dSpec spec;
    private final String op;
    private final ThreadTeam pool;
    private final Shape srcShape, dstShape;
    private final long workspaceBytes;
    private final boolean max, includePadding;
    private final int planes, ih, iw, oh, ow, kh, kw, sh, sw, pt, pl, tasks;

    SimdPool2dPlan(Pool2dSpec spec, ThreadTeam pool) {
        this.spec = spec;
        this.op = "simd " + spec;
        this.pool = pool;
        srcShape = spec.srcShape();
        dstShape = spec.dstShape();
        max = spec.kind() == Pool2dSpec.Kind.MAX;
        includePadding = spec.kind() == Pool2dSpec.Kind.AVG_INCLUDE_PADDING;
        workspaceBytes = max ? 4 * dstShape.elements() : 0;
        Window w = spec.window();
        planes = spec.batch() * spec.channels();
        ih = spec.inHeight(); iw = spec.inWidth(); oh = spec.outHeight(); ow = spec.outWidth();
        kh = w.kernelHeight(); kw = w.kernelWidth(); sh = w.strideHeight(); sw = w.strideWidth();
        pt = w.padTop(); pl = w.padLeft();
        long work = dstShape.elements() * kh * kw;
        tasks = work < (1 << 15) ? 1 : Math.min(pool.threads(), planes);   // tiny pools are not worth a wake-up
    }

    @Override public Pool2dSpec spec() { return spec; }

    @Override public long workspaceBytes() { return workspaceBytes; }

    @Override public void forwardTraining(Tensor dst, Tensor workspace, Tensor src) {
        Checks.poolWorkspace(op, workspace, workspaceBytes);
        forward(dst, src, workspace == null ? null : workspace.segment());
    }

    @Override public void forwardInference(Tensor dst, Tensor src) {
        forward(dst, src, null);
    }

    private void forward(Tensor dst, Tensor src, MemorySegment ws) {
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
        MemorySegment d = dst.segment(), s = src.segment();
        pool.run(tasks, t -> {
            for (int p = ThreadTeam.split(planes, tasks, t), end = ThreadTeam.split(planes, tasks, t + 1); p < end; p++) {
                forwardPlane(d, s, ws, p);
            }
        });
    }

    private void forwardPlane(MemorySegment d, MemorySegment s, MemorySegment ws, int p) {
        long srcPlane = (long) p * ih * iw;
        long out = (long) p * oh * ow;
        for (int y = 0; y < oh; y++) {
            int y0 = y * sh - pt, ya = Math.max(y0, 0), yb = Math.min(y0 + kh, ih);
            for (int x = 0; x < ow; x++, out++) {
                int x0 = x * sw - pl, xa = Math.max(x0, 0), xb = Math.min(x0 + kw, iw);
                if (max) {
                    float best = s.getAtIndex(F, srcPlane + (long) ya * iw + xa);
                    int bestIndex = ya * iw + xa;
                    for (int sy = ya; sy < yb; sy++) {
                        long row = srcPlane + (long) sy * iw;
                        for (int sx = xa; sx < xb; sx++) {
                            float v = s.getAtIndex(F, row + sx);
                            if (v > best) {   // strictly greater: the first maximum wins
                                best = v;
                                bestIndex = sy * iw + sx;
                            }
                        }
                    }
                    d.setAtIndex(F, out, best);
                    if (ws != null) ws.setAtIndex(I, out, bestIndex);
                } else {
                    float sum = 0;
                    for (int sy = ya; sy < yb; sy++) {
                        long row = srcPlane + (long) sy * iw;
                        for (int sx = xa; sx < xb; sx++) sum += s.getAtIndex(F, row + sx);
                    }
                    d.setAtIndex(F, out, sum / divisor(ya, yb, xa, xb));
                }
            }
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor workspace) {
        Checks.tensor(op, "diffSrc", diffSrc, srcShape, DType.F32);
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.poolWorkspace(op, workspace, workspaceBytes);
        MemorySegment ds = diffSrc.segment(), dd = diffDst.segment();
        MemorySegment ws = workspace == null ? null : workspace.segment();
        pool.run(tasks, t -> {
            for (int p = ThreadTeam.split(planes, tasks, t), end = ThreadTeam.split(planes, tasks, t + 1); p < end; p++) {
                backwardPlane(ds, dd, ws, p);
            }
        });
    }

    private void backwardPlane(MemorySegment ds, MemorySegment dd, MemorySegment ws, int p) {
        long srcPlane = (long) p * ih * iw;
        long out = (long) p * oh * ow;
        Vec.fill(ds, srcPlane, ih * iw, 0f);
        for (int y = 0; y < oh; y++) {
            int y0 = y * sh - pt, ya = Math.max(y0, 0), yb = Math.min(y0 + kh, ih);
            for (int x = 0; x < ow; x++, out++) {
                float g = dd.getAtIndex(F, out);
                if (max) {
                    long at = srcPlane + ws.getAtIndex(I, out);
                    ds.setAtIndex(F, at, ds.getAtIndex(F, at) + g);
                } else {
                    int x0 = x * sw - pl, xa = Math.max(x0, 0), xb = Math.min(x0 + kw, iw);
                    float share = g / divisor(ya, yb, xa, xb);
                    for (int sy = ya; sy < yb; sy++) {
                        long row = srcPlane + (long) sy * iw;
                        for (int sx = xa; sx < xb; sx++) ds.setAtIndex(F, row + sx, ds.getAtIndex(F, row + sx) + share);
                    }
                }
            }
        }
    }

    /** The average's divisor for the window clipped to rows [ya, yb) and columns [xa, xb). */
    private float divisor(int ya, int yb, int xa, int xb) {
        return includePadding ? (float) kh * kw : (float) (yb - ya) * (xb - xa);
    }

    @Override public void close() {}

    @Override public String toString() { return op; }
}

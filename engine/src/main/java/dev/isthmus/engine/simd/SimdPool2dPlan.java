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
 * diffDst value onto its maximum or its window. Windows of 2x2 at stride 2 that tile the input
 * (LeNet's subsampling) have their own loops, with the same operations in the same order.
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
    private final boolean tiles2x2;   // 2x2 windows at stride 2 that tile the input exactly (LeNet's S2 and S4)
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
        tiles2x2 = kh == 2 && kw == 2 && sh == 2 && sw == 2 && pt == 0 && pl == 0 && ih == 2 * oh && iw == 2 * ow;
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
                if (tiles2x2) forwardPlane2x2(d, s, ws, p); else forwardPlane(d, s, ws, p);
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
                if (tiles2x2) backwardPlane2x2(ds, dd, ws, p); else backwardPlane(ds, dd, ws, p);
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

    /**
     * {@link #forwardPlane} for 2x2 windows that tile the plane: the same operations in the same
     * order (so the same bits), without the clipping arithmetic and the loops over the window.
     */
    private void forwardPlane2x2(MemorySegment d, MemorySegment s, MemorySegment ws, int p) {
        long srcPlane = (long) p * ih * iw;
        long out = (long) p * oh * ow;
        float divisor = 4f;
        for (int y = 0; y < oh; y++) {
            long top = srcPlane + (long) 2 * y * iw, bottom = top + iw;
            for (int x = 0; x < ow; x++, out++) {
                float a = s.getAtIndex(F, top + 2 * x), b = s.getAtIndex(F, top + 2 * x + 1);
                float c = s.getAtIndex(F, bottom + 2 * x), e = s.getAtIndex(F, bottom + 2 * x + 1);
                if (max) {
                    int at = 2 * y * iw + 2 * x;   // the first maximum in row-major order wins: strictly greater
                    float best = a;
                    int bestIndex = at;
                    if (b > best) { best = b; bestIndex = at + 1; }
                    if (c > best) { best = c; bestIndex = at + iw; }
                    if (e > best) { best = e; bestIndex = at + iw + 1; }
                    d.setAtIndex(F, out, best);
                    if (ws != null) ws.setAtIndex(I, out, bestIndex);
                } else {
                    float sum = 0;
                    sum += a;
                    sum += b;
                    sum += c;
                    sum += e;
                    d.setAtIndex(F, out, sum / divisor);
                }
            }
        }
    }

    /** {@link #backwardPlane} for 2x2 windows that tile the plane: every diffSrc element is written once (0 + its share). */
    private void backwardPlane2x2(MemorySegment ds, MemorySegment dd, MemorySegment ws, int p) {
        long srcPlane = (long) p * ih * iw;
        long out = (long) p * oh * ow;
        for (int y = 0; y < oh; y++) {
            long top = srcPlane + (long) 2 * y * iw, bottom = top + iw;
            for (int x = 0; x < ow; x++, out++) {
                float g = dd.getAtIndex(F, out);
                if (max) {
                    int at = 2 * y * iw + 2 * x, best = ws.getAtIndex(I, out) - at;   // 0, 1, iw or iw + 1
                    ds.setAtIndex(F, top + 2 * x, best == 0 ? 0f + g : 0f);
                    ds.setAtIndex(F, top + 2 * x + 1, best == 1 ? 0f + g : 0f);
                    ds.setAtIndex(F, bottom + 2 * x, best == iw ? 0f + g : 0f);
                    ds.setAtIndex(F, bottom + 2 * x + 1, best == iw + 1 ? 0f + g : 0f);
                } else {
                    float share = 0f + g / 4f;
                    ds.setAtIndex(F, top + 2 * x, share);
                    ds.setAtIndex(F, top + 2 * x + 1, share);
                    ds.setAtIndex(F, bottom + 2 * x, share);
                    ds.setAtIndex(F, bottom + 2 * x + 1, share);
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

package dev.isthmus.engine.reference;

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
 * Pooling as the definition (oneDNN's pooling, https://uxlfoundation.github.io/oneDNN/dev_guide_pooling.html).
 * The window of output (oh, ow) covers input rows oh SH - padTop .. + KH - 1 and columns
 * ow SW - padLeft .. + KW - 1; positions in the padding take no part.
 *
 * <ul>
 *   <li>MAX: the largest input in the window; on ties the first in row-major order wins.
 *       The workspace holds, per output, the int32 index {@code ih * IW + iw} of that
 *       maximum within its input plane: 4 bytes per dst element.
 *   <li>AVG_INCLUDE_PADDING: the sum over the window divided by KH KW (oneDNN's
 *       {@code pooling_avg_include_padding}). Because the output size is rounded down, every
 *       window lies inside the padded input, so this equals PyTorch's count_include_pad
 *       divisor (the window clipped to the padded input).
 *   <li>AVG_EXCLUDE_PADDING: divided by the number of input positions in the window.
 * </ul>
 *
 * The backward passes gather: each diffSrc value is one sum over the windows that cover it.
 */
final class ReferencePool2dPlan implements Pool2dPlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Workspace ints may sit at any byte offset of a U8 tensor. */
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT_UNALIGNED;

    private final Pool2dSpec spec;
    private final String op;
    private final Shape srcShape, dstShape;
    private final long workspaceBytes;
    private final int planes, ih, iw, oh, ow, kh, kw, sh, sw, pt, pl;

    ReferencePool2dPlan(Pool2dSpec spec) {
        this.spec = spec;
        this.op = "reference " + spec;
        srcShape = spec.srcShape();
        dstShape = spec.dstShape();
        workspaceBytes = spec.kind() == Pool2dSpec.Kind.MAX ? 4 * dstShape.elements() : 0;
        Window w = spec.window();
        planes = spec.batch() * spec.channels();
        ih = spec.inHeight(); iw = spec.inWidth(); oh = spec.outHeight(); ow = spec.outWidth();
        kh = w.kernelHeight(); kw = w.kernelWidth(); sh = w.strideHeight(); sw = w.strideWidth();
        pt = w.padTop(); pl = w.padLeft();
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
        for (int p = 0; p < planes; p++) {
            long srcPlane = (long) p * ih * iw;
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    long out = ((long) p * oh + y) * ow + x;
                    int y0 = y * sh - pt, x0 = x * sw - pl;
                    if (spec.kind() == Pool2dSpec.Kind.MAX) {
                        float best = 0;
                        int bestIndex = -1;
                        for (int sy = Math.max(y0, 0); sy < Math.min(y0 + kh, ih); sy++)
                            for (int sx = Math.max(x0, 0); sx < Math.min(x0 + kw, iw); sx++) {
                                float v = s.getAtIndex(F, srcPlane + sy * iw + sx);
                                if (bestIndex < 0 || v > best) {   // strictly greater: the first maximum wins
                                    best = v;
                                    bestIndex = sy * iw + sx;
                                }
                            }
                        d.setAtIndex(F, out, best);
                        if (ws != null) ws.setAtIndex(I, out, bestIndex);
                    } else {
                        double sum = 0;
                        for (int sy = Math.max(y0, 0); sy < Math.min(y0 + kh, ih); sy++)
                            for (int sx = Math.max(x0, 0); sx < Math.min(x0 + kw, iw); sx++) {
                                sum += s.getAtIndex(F, srcPlane + sy * iw + sx);
                            }
                        d.setAtIndex(F, out, (float) (sum / divisor(y0, x0)));
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
        for (int p = 0; p < planes; p++)
            for (int sy = 0; sy < ih; sy++)
                for (int sx = 0; sx < iw; sx++) {
                    double acc = 0;
                    // every window (y, x) with y SH - padTop + ky == sy and x SW - padLeft + kx == sx
                    for (int ky = 0; ky < kh; ky++) {
                        int y = ReferenceConv2dPlan.outIndex(sy + pt - ky, sh, oh);
                        if (y < 0) continue;
                        for (int kx = 0; kx < kw; kx++) {
                            int x = ReferenceConv2dPlan.outIndex(sx + pl - kx, sw, ow);
                            if (x < 0) continue;
                            long out = ((long) p * oh + y) * ow + x;
                            if (ws != null) {
                                if (ws.getAtIndex(I, out) == sy * iw + sx) acc += dd.getAtIndex(F, out);
                            } else {
                                acc += dd.getAtIndex(F, out) / divisor(y * sh - pt, x * sw - pl);
                            }
                        }
                    }
                    ds.setAtIndex(F, ((long) p * ih + sy) * iw + sx, (float) acc);
                }
    }

    /** The average's divisor for the window whose top-left corner is (y0, x0) in input coordinates. */
    private double divisor(int y0, int x0) {
        if (spec.kind() == Pool2dSpec.Kind.AVG_INCLUDE_PADDING) return (double) kh * kw;
        int rows = Math.min(y0 + kh, ih) - Math.max(y0, 0);
        int cols = Math.min(x0 + kw, iw) - Math.max(x0, 0);
        return (double) rows * cols;
    }

    @Override public void close() {}

    @Override public String toString() { return op; }
}

package dev.isthmus.engine.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.cpu.Simd;

/**
 * The lowering of one image's channel group to a matrix and back, so that convolution is a GEMM:
 *
 * <pre>
 *   col (K = C KH KW, OH OW):  col(c KH KW + ky KW + kx, oy OW + ox) = src(c, iy, ix)  or 0 in the padding
 *   iy = oy SH - padTop + ky (DH + 1),   ix = ox SW - padLeft + kx (DW + 1)
 *   src (C, IH, IW) from element offset srcOff
 * </pre>
 *
 * {@link #col2im} is the adjoint: it adds every col entry back onto its source position (the
 * caller zeroes the destination first). The fast versions handle each output row as a
 * contiguous run of valid columns between two zero runs (a bulk copy or vector add when the
 * stride is 1); the scalar twins test every position.
 */
final class Im2col {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    final int c, ih, iw, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw;

    /** Geometry for C channels; dilations are oneDNN's (0 = none). */
    Im2col(int c, int ih, int iw, int oh, int ow, int kh, int kw, int sh, int sw, int pt, int pl, int dilH, int dilW) {
        this.c = c; this.ih = ih; this.iw = iw; this.oh = oh; this.ow = ow; this.kh = kh; this.kw = kw;
        this.sh = sh; this.sw = sw; this.pt = pt; this.pl = pl; this.dh = dilH + 1; this.dw = dilW + 1;
    }

    /** Rows of col: C KH KW. */
    int rows() { return c * kh * kw; }

    /** Columns of col: OH OW. */
    int cols() { return oh * ow; }

    void im2col(MemorySegment col, MemorySegment src, long srcOff) {
        if (Simd.VECTOR) im2colFast(col, src, srcOff); else im2colScalar(col, src, srcOff);
    }

    void col2im(MemorySegment dst, long dstOff, MemorySegment col) {
        if (Simd.VECTOR) col2imFast(dst, dstOff, col); else col2imScalar(dst, dstOff, col);
    }

    /** First output column whose input column ox SW - padLeft + kx DW is >= 0. */
    private int firstValidX(int kx) {
        int t = pl - kx * dw;   // need ox SW >= t
        return t <= 0 ? 0 : Math.min(ow, (t + sw - 1) / sw);
    }

    /** One past the last output column whose input column is < IW. */
    private int endValidX(int kx) {
        int t = iw - 1 + pl - kx * dw;   // need ox SW <= t
        return t < 0 ? 0 : Math.min(ow, t / sw + 1);
    }

    void im2colFast(MemorySegment col, MemorySegment src, long srcOff) {
        long row = 0;
        for (int ch = 0; ch < c; ch++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, row++) {
                    int x0 = firstValidX(kx), x1 = Math.max(x0, endValidX(kx));
                    int ixAtX0 = x0 * sw - pl + kx * dw;
                    for (int oy = 0; oy < oh; oy++) {
                        long out = row * oh * ow + (long) oy * ow;
                        int iy = oy * sh - pt + ky * dh;
                        if (iy < 0 || iy >= ih) {
                            Vec.fill(col, out, ow, 0f);
                            continue;
                        }
                        if (x0 > 0) Vec.fill(col, out, x0, 0f);
                        long in = srcOff + ((long) ch * ih + iy) * iw + ixAtX0;
                        if (x1 == x0) {
                            // the whole row lies in the padding
                        } else if (sw == 1) {
                            Vec.copy(src, in, col, out + x0, x1 - x0);
                        } else {
                            for (int ox = x0; ox < x1; ox++, in += sw) col.setAtIndex(F, out + ox, src.getAtIndex(F, in));
                        }
                        if (x1 < ow) Vec.fill(col, out + x1, ow - x1, 0f);
                    }
                }
    }

    void im2colScalar(MemorySegment col, MemorySegment src, long srcOff) {
        long at = 0;
        for (int ch = 0; ch < c; ch++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++, at++) {
                            int iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
                            boolean inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw;
                            col.setAtIndex(F, at, inside ? src.getAtIndex(F, srcOff + ((long) ch * ih + iy) * iw + ix) : 0f);
                        }
    }

    void col2imFast(MemorySegment dst, long dstOff, MemorySegment col) {
        long row = 0;
        for (int ch = 0; ch < c; ch++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, row++) {
                    int x0 = firstValidX(kx), x1 = Math.max(x0, endValidX(kx));
                    int ixAtX0 = x0 * sw - pl + kx * dw;
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * sh - pt + ky * dh;
                        if (iy < 0 || iy >= ih) continue;
                        long out = row * oh * ow + (long) oy * ow;
                        long in = dstOff + ((long) ch * ih + iy) * iw + ixAtX0;
                        if (sw == 1) {
                            Vec.add(dst, in, col, out + x0, x1 - x0);
                        } else {
                            for (int ox = x0; ox < x1; ox++, in += sw) {
                                dst.setAtIndex(F, in, dst.getAtIndex(F, in) + col.getAtIndex(F, out + ox));
                            }
                        }
                    }
                }
    }

    void col2imScalar(MemorySegment dst, long dstOff, MemorySegment col) {
        long at = 0;
        for (int ch = 0; ch < c; ch++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++, at++) {
                            int iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
                            if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                            long d = dstOff + ((long) ch * ih + iy) * iw + ix;
                            dst.setAtIndex(F, d, dst.getAtIndex(F, d) + col.getAtIndex(F, at));
                        }
    }
}

package dev.isthmus.engine.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.cpu.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Convolutions with kernels 5 wide at stride 1, without padding, dilation or groups (LeNet-5's C1
 * and C3), computed straight from the image with vectors along the output columns: no im2col and
 * no GEMM packing, which at these sizes cost as much as the multiply-adds (C1's backward-weights
 * product transposes a 25 x 784 matrix per image to do 235 thousand of them).
 *
 * <pre>
 *   forward:          dst(o, oy, ox)      = sum_{c, ky, kx} W(o, c, ky, kx) src(c, oy + ky, ox + kx)  [+ bias(o)]
 *   backward-weights: dW(o, c, ky, kx)    = sum_{image, oy, ox} diffDst(o, oy, ox) src(c, oy + ky, ox + kx)
 *   src (C, IH, IW), dst and diffDst (OC, OH, OW), W (OC, C, KH, 5) per image, element offsets
 * </pre>
 *
 * The forward sums in the order of im2col's rows (c, ky, kx), one fused multiply-add each, then adds
 * the bias: the GEMM path's operations in its order. Rows of outputs are whole vectors plus one
 * masked vector. Output channels go in blocks (6 in the forward, 3 in backward-weights, where each
 * keeps 5 accumulators); a block past the last channel repeats the last one and stores nothing.
 * Every vector path has {@link #forwardScalar} or {@link #backwardWeightsScalar} as its twin.
 */
final class DirectConv {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int VL = S.length();
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    static final int KW = 5;

    final int c, ih, iw, oc, oh, ow, kh;

    DirectConv(Conv2dSpec spec) {
        if (!applies(spec)) throw new IllegalArgumentException("no direct convolution for " + spec);
        c = spec.inChannels(); ih = spec.inHeight(); iw = spec.inWidth();
        oc = spec.outChannels(); oh = spec.outHeight(); ow = spec.outWidth();
        kh = spec.window().kernelHeight();
    }

    /** Kernels 5 wide, stride 1, no padding, no dilation, one group. */
    static boolean applies(Conv2dSpec spec) {
        Window w = spec.window();
        return w.kernelWidth() == KW && w.strideHeight() == 1 && w.strideWidth() == 1 && w.padTop() == 0 && w.padLeft() == 0
                && w.padBottom() == 0 && w.padRight() == 0 && w.dilationHeight() == 0 && w.dilationWidth() == 0 && spec.groups() == 1;
    }

    private int k() { return c * kh * KW; }

    /** One image: dst (OC, OH, OW) from src (C, IH, IW); {@code bias} may be null. */
    void forward(MemorySegment dst, long dOff, MemorySegment src, long sOff, MemorySegment w, MemorySegment bias) {
        if (Simd.VECTOR) forwardVector(dst, dOff, src, sOff, w, bias); else forwardScalar(dst, dOff, src, sOff, w, bias);
    }

    void forwardScalar(MemorySegment dst, long dOff, MemorySegment src, long sOff, MemorySegment w, MemorySegment bias) {
        int k = k();
        for (int o = 0; o < oc; o++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    float acc = 0;
                    for (int ch = 0; ch < c; ch++)
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < KW; kx++) {
                                acc = Math.fma(src.getAtIndex(F, sOff + ((long) ch * ih + oy + ky) * iw + ox + kx),
                                        w.getAtIndex(F, (long) o * k + (ch * kh + ky) * KW + kx), acc);
                            }
                    dst.setAtIndex(F, dOff + ((long) o * oh + oy) * ow + ox, bias == null ? acc : acc + bias.getAtIndex(F, o));
                }
    }

    void forwardVector(MemorySegment dst, long dOff, MemorySegment src, long sOff, MemorySegment w, MemorySegment bias) {
        int k = k();
        for (int o0 = 0; o0 < oc; o0 += 6) {
            long w0 = (long) o0 * k, w1 = (long) Math.min(o0 + 1, oc - 1) * k, w2 = (long) Math.min(o0 + 2, oc - 1) * k;
            long w3 = (long) Math.min(o0 + 3, oc - 1) * k, w4 = (long) Math.min(o0 + 4, oc - 1) * k, w5 = (long) Math.min(o0 + 5, oc - 1) * k;
            for (int ox0 = 0; ox0 < ow; ox0 += VL) {
                int lanes = Math.min(VL, ow - ox0);
                VectorMask<Float> m = VectorMask.fromLong(S, lanes == 64 ? -1L : (1L << lanes) - 1);
                for (int oy = 0; oy < oh; oy++) {
                    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
                    for (int ch = 0; ch < c; ch++)
                        for (int ky = 0; ky < kh; ky++) {
                            long row = (sOff + ((long) ch * ih + oy + ky) * iw + ox0) * 4;
                            int wk = (ch * kh + ky) * KW;
                            for (int kx = 0; kx < KW; kx++) {
                                FloatVector x = FloatVector.fromMemorySegment(S, src, row + kx * 4L, NATIVE, m);
                                a0 = x.fma(FloatVector.broadcast(S, w.getAtIndex(F, w0 + wk + kx)), a0);
                                a1 = x.fma(FloatVector.broadcast(S, w.getAtIndex(F, w1 + wk + kx)), a1);
                                a2 = x.fma(FloatVector.broadcast(S, w.getAtIndex(F, w2 + wk + kx)), a2);
                                a3 = x.fma(FloatVector.broadcast(S, w.getAtIndex(F, w3 + wk + kx)), a3);
                                a4 = x.fma(FloatVector.broadcast(S, w.getAtIndex(F, w4 + wk + kx)), a4);
                                a5 = x.fma(FloatVector.broadcast(S, w.getAtIndex(F, w5 + wk + kx)), a5);
                            }
                        }
                    long out = dOff + (long) oy * ow + ox0, plane = (long) oh * ow;
                    if (bias != null) {   // clamped channels for a block past the end: computed, not stored
                        a0 = a0.add(bias.getAtIndex(F, o0));
                        a1 = a1.add(bias.getAtIndex(F, Math.min(o0 + 1, oc - 1)));
                        a2 = a2.add(bias.getAtIndex(F, Math.min(o0 + 2, oc - 1)));
                        a3 = a3.add(bias.getAtIndex(F, Math.min(o0 + 3, oc - 1)));
                        a4 = a4.add(bias.getAtIndex(F, Math.min(o0 + 4, oc - 1)));
                        a5 = a5.add(bias.getAtIndex(F, Math.min(o0 + 5, oc - 1)));
                    }
                    // stores written out here, not in a helper: a vector passed to a method C2 does not inline is boxed
                    a0.intoMemorySegment(dst, (out + o0 * plane) * 4, NATIVE, m);
                    if (o0 + 1 < oc) a1.intoMemorySegment(dst, (out + (o0 + 1) * plane) * 4, NATIVE, m);
                    if (o0 + 2 < oc) a2.intoMemorySegment(dst, (out + (o0 + 2) * plane) * 4, NATIVE, m);
                    if (o0 + 3 < oc) a3.intoMemorySegment(dst, (out + (o0 + 3) * plane) * 4, NATIVE, m);
                    if (o0 + 4 < oc) a4.intoMemorySegment(dst, (out + (o0 + 4) * plane) * 4, NATIVE, m);
                    if (o0 + 5 < oc) a5.intoMemorySegment(dst, (out + (o0 + 5) * plane) * 4, NATIVE, m);
                }
            }
        }
    }

    /**
     * dW (OC, C, KH, 5) = the sum over images [first, end) of diffDst . src, written (not added);
     * images are {@code srcStride} and {@code dstStride} floats apart.
     */
    void backwardWeights(MemorySegment dw, MemorySegment diffDst, long dstStride, MemorySegment src, long srcStride, int first, int end,
                         MemorySegment lanes) {
        if (Simd.VECTOR) backwardWeightsVector(dw, diffDst, dstStride, src, srcStride, first, end, lanes);
        else backwardWeightsScalar(dw, diffDst, dstStride, src, srcStride, first, end);
    }

    void backwardWeightsScalar(MemorySegment dw, MemorySegment diffDst, long dstStride, MemorySegment src, long srcStride, int first, int end) {
        for (int o = 0; o < oc; o++)
            for (int ch = 0; ch < c; ch++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < KW; kx++) {
                        float acc = 0;
                        for (int img = first; img < end; img++)
                            for (int oy = 0; oy < oh; oy++)
                                for (int ox = 0; ox < ow; ox++) {
                                    acc = Math.fma(diffDst.getAtIndex(F, img * dstStride + ((long) o * oh + oy) * ow + ox),
                                            src.getAtIndex(F, img * srcStride + ((long) ch * ih + oy + ky) * iw + ox + kx), acc);
                                }
                        dw.setAtIndex(F, (long) o * k() + (ch * kh + ky) * KW + kx, acc);
                    }
    }

    /** {@code lanes}: scratch of at least {@link #LANE_FLOATS} floats, where the accumulators' lanes are summed. */
    void backwardWeightsVector(MemorySegment dw, MemorySegment diffDst, long dstStride, MemorySegment src, long srcStride, int first, int end,
                               MemorySegment lanes) {
        int k = k();
        long plane = (long) oh * ow;
        for (int o0 = 0; o0 < oc; o0 += 3) {
            long d0 = (long) o0 * plane, d1 = (long) Math.min(o0 + 1, oc - 1) * plane, d2 = (long) Math.min(o0 + 2, oc - 1) * plane;
            for (int ch = 0; ch < c; ch++)
                for (int ky = 0; ky < kh; ky++) {
                    FloatVector z = FloatVector.zero(S);
                    FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a04 = z;
                    FloatVector a10 = z, a11 = z, a12 = z, a13 = z, a14 = z;
                    FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a24 = z;
                    for (int img = first; img < end; img++)
                        for (int ox0 = 0; ox0 < ow; ox0 += VL) {
                            int valid = Math.min(VL, ow - ox0);
                            VectorMask<Float> m = VectorMask.fromLong(S, valid == 64 ? -1L : (1L << valid) - 1);
                            for (int oy = 0; oy < oh; oy++) {
                                long row = (img * srcStride + ((long) ch * ih + oy + ky) * iw + ox0) * 4;
                                long drow = img * dstStride + (long) oy * ow + ox0;
                                FloatVector s0 = FloatVector.fromMemorySegment(S, src, row, NATIVE, m);
                                FloatVector s1 = FloatVector.fromMemorySegment(S, src, row + 4, NATIVE, m);
                                FloatVector s2 = FloatVector.fromMemorySegment(S, src, row + 8, NATIVE, m);
                                FloatVector s3 = FloatVector.fromMemorySegment(S, src, row + 12, NATIVE, m);
                                FloatVector s4 = FloatVector.fromMemorySegment(S, src, row + 16, NATIVE, m);
                                FloatVector g = FloatVector.fromMemorySegment(S, diffDst, (drow + d0) * 4, NATIVE, m);
                                a00 = s0.fma(g, a00); a01 = s1.fma(g, a01); a02 = s2.fma(g, a02); a03 = s3.fma(g, a03); a04 = s4.fma(g, a04);
                                g = FloatVector.fromMemorySegment(S, diffDst, (drow + d1) * 4, NATIVE, m);
                                a10 = s0.fma(g, a10); a11 = s1.fma(g, a11); a12 = s2.fma(g, a12); a13 = s3.fma(g, a13); a14 = s4.fma(g, a14);
                                g = FloatVector.fromMemorySegment(S, diffDst, (drow + d2) * 4, NATIVE, m);
                                a20 = s0.fma(g, a20); a21 = s1.fma(g, a21); a22 = s2.fma(g, a22); a23 = s3.fma(g, a23); a24 = s4.fma(g, a24);
                            }
                        }
                    // through memory, not a helper taking vectors (C2 boxes a vector passed to a method it does not inline)
                    a00.intoMemorySegment(lanes, 0 * VL * 4L, NATIVE); a01.intoMemorySegment(lanes, 1 * VL * 4L, NATIVE);
                    a02.intoMemorySegment(lanes, 2 * VL * 4L, NATIVE); a03.intoMemorySegment(lanes, 3 * VL * 4L, NATIVE);
                    a04.intoMemorySegment(lanes, 4 * VL * 4L, NATIVE); a10.intoMemorySegment(lanes, 5 * VL * 4L, NATIVE);
                    a11.intoMemorySegment(lanes, 6 * VL * 4L, NATIVE); a12.intoMemorySegment(lanes, 7 * VL * 4L, NATIVE);
                    a13.intoMemorySegment(lanes, 8 * VL * 4L, NATIVE); a14.intoMemorySegment(lanes, 9 * VL * 4L, NATIVE);
                    a20.intoMemorySegment(lanes, 10 * VL * 4L, NATIVE); a21.intoMemorySegment(lanes, 11 * VL * 4L, NATIVE);
                    a22.intoMemorySegment(lanes, 12 * VL * 4L, NATIVE); a23.intoMemorySegment(lanes, 13 * VL * 4L, NATIVE);
                    a24.intoMemorySegment(lanes, 14 * VL * 4L, NATIVE);
                    long at = (long) o0 * k + (ch * kh + ky) * KW;
                    for (int r = 0; r < 3 && o0 + r < oc; r++)
                        for (int kx = 0; kx < KW; kx++) dw.setAtIndex(F, at + (long) r * k + kx, laneSum(lanes, (r * KW + kx) * VL));
                }
        }
    }

    /** Floats of scratch {@link #backwardWeightsVector} needs: 15 vectors. */
    static final int LANE_FLOATS = 15 * VL;

    /** The lanes at {@code off} added in lane order, as {@link Simd#sumLanes} does. */
    private static float laneSum(MemorySegment lanes, int off) {
        float s = 0;
        for (int l = 0; l < VL; l++) s += lanes.getAtIndex(F, off + l);
        return s;
    }
}

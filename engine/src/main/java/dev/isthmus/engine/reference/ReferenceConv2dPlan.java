package dev.isthmus.engine.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.FusedActivation;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;

/**
 * Convolution as the definition, one output value at a time with a double accumulator
 * (oneDNN's convolution, https://uxlfoundation.github.io/oneDNN/dev_guide_convolution.html):
 *
 * <pre>
 *   dst(n, oc, oh, ow) = bias(oc) + sum_{icg, kh, kw} src(n, g ICg + icg, ih, iw) weights(oc, icg, kh, kw)
 *   ih = oh SH - padTop + kh (DH + 1),  iw = ow SW - padLeft + kw (DW + 1),  g = oc / OCg
 * </pre>
 *
 * positions outside the input count as zero; a fused activation is applied to each value as it is
 * written ({@link EltwiseKind#apply}). Both backward passes gather (each written
 * value is one sum) rather than scatter, so they need no scratch and write, never accumulate.
 */
final class ReferenceConv2dPlan implements Conv2dPlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Conv2dSpec spec;
    private final String op;
    private final Shape srcShape, dstShape, weightsShape, biasShape;   // computed once: no allocation per call
    private final int n, ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, icg, ocg;
    private final EltwiseKind activation;
    private final FusedActivation activationBackward;

    ReferenceConv2dPlan(ReferenceBackend backend, Conv2dSpec spec) {
        this.spec = spec;
        this.op = "reference " + spec;
        this.activation = spec.activation();
        this.activationBackward = new FusedActivation(backend, spec, op);
        srcShape = spec.srcShape(); dstShape = spec.dstShape();
        weightsShape = spec.weightsShape();
        biasShape = spec.hasBias() ? spec.biasShape() : null;   // null: no bias
        Window w = spec.window();
        n = spec.batch(); ic = spec.inChannels(); ih = spec.inHeight(); iw = spec.inWidth();
        oc = spec.outChannels(); oh = spec.outHeight(); ow = spec.outWidth();
        kh = w.kernelHeight(); kw = w.kernelWidth(); sh = w.strideHeight(); sw = w.strideWidth();
        pt = w.padTop(); pl = w.padLeft(); dh = w.dilationHeight() + 1; dw = w.dilationWidth() + 1;
        icg = ic / spec.groups(); ocg = oc / spec.groups();
    }

    @Override public Conv2dSpec spec() { return spec; }

    @Override public void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias) {
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        Checks.bias(op, "bias", bias, biasShape, "convolution");
        MemorySegment d = dst.segment(), s = src.segment(), wt = weights.segment();
        MemorySegment b = bias == null ? null : bias.segment();
        for (int in = 0; in < n; in++)
            for (int o = 0; o < oc; o++) {
                int g = o / ocg;
                for (int y = 0; y < oh; y++)
                    for (int x = 0; x < ow; x++) {
                        double acc = b == null ? 0 : b.getAtIndex(F, o);
                        for (int c = 0; c < icg; c++)
                            for (int ky = 0; ky < kh; ky++) {
                                int sy = y * sh - pt + ky * dh;
                                if (sy < 0 || sy >= ih) continue;
                                for (int kx = 0; kx < kw; kx++) {
                                    int sx = x * sw - pl + kx * dw;
                                    if (sx < 0 || sx >= iw) continue;
                                    acc += (double) s.getAtIndex(F, at(in, g * icg + c, sy, sx, ic, ih, iw))
                                            * wt.getAtIndex(F, at(o, c, ky, kx, icg, kh, kw));
                                }
                            }
                        float v = activation == null ? (float) acc : activation.apply((float) acc);
                        d.setAtIndex(F, at(in, o, y, x, oc, oh, ow), v);
                    }
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
        // diffSrc(n, c, sy, sx) = sum of diffDst(n, o, y, x) weights(o, c % ICg, ky, kx)
        // over every (o in c's group, ky, kx) with sy = y SH - padTop + ky DH for an output row y
        for (int in = 0; in < n; in++)
            for (int c = 0; c < ic; c++) {
                int g = c / icg;
                for (int sy = 0; sy < ih; sy++)
                    for (int sx = 0; sx < iw; sx++) {
                        double acc = 0;
                        for (int og = 0; og < ocg; og++) {
                            int o = g * ocg + og;
                            for (int ky = 0; ky < kh; ky++) {
                                int y = outIndex(sy + pt - ky * dh, sh, oh);
                                if (y < 0) continue;
                                for (int kx = 0; kx < kw; kx++) {
                                    int x = outIndex(sx + pl - kx * dw, sw, ow);
                                    if (x < 0) continue;
                                    acc += (double) dd.getAtIndex(F, at(in, o, y, x, oc, oh, ow))
                                            * wt.getAtIndex(F, at(o, c - g * icg, ky, kx, icg, kh, kw));
                                }
                            }
                        }
                        ds.setAtIndex(F, at(in, c, sy, sx, ic, ih, iw), (float) acc);
                    }
            }
    }

    @Override public void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src) {
        Checks.tensor(op, "diffWeights", diffWeights, weightsShape, DType.F32);
        Checks.bias(op, "diffBias", diffBias, biasShape, "convolution");
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
        MemorySegment dwt = diffWeights.segment(), dd = diffDst.segment(), s = src.segment();
        for (int o = 0; o < oc; o++) {
            int g = o / ocg;
            for (int c = 0; c < icg; c++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++) {
                        double acc = 0;
                        for (int in = 0; in < n; in++)
                            for (int y = 0; y < oh; y++) {
                                int sy = y * sh - pt + ky * dh;
                                if (sy < 0 || sy >= ih) continue;
                                for (int x = 0; x < ow; x++) {
                                    int sx = x * sw - pl + kx * dw;
                                    if (sx < 0 || sx >= iw) continue;
                                    acc += (double) dd.getAtIndex(F, at(in, o, y, x, oc, oh, ow))
                                            * s.getAtIndex(F, at(in, g * icg + c, sy, sx, ic, ih, iw));
                                }
                            }
                        dwt.setAtIndex(F, at(o, c, ky, kx, icg, kh, kw), (float) acc);
                    }
        }
        if (diffBias != null) {
            MemorySegment db = diffBias.segment();
            for (int o = 0; o < oc; o++) {
                double acc = 0;
                for (int in = 0; in < n; in++)
                    for (int y = 0; y < oh; y++)
                        for (int x = 0; x < ow; x++) acc += dd.getAtIndex(F, at(in, o, y, x, oc, oh, ow));
                db.setAtIndex(F, o, (float) acc);
            }
        }
    }

    /** The output index o with o * stride == t, or -1 when there is none in [0, size). */
    static int outIndex(int t, int stride, int size) {
        if (t < 0 || t % stride != 0) return -1;
        int o = t / stride;
        return o < size ? o : -1;
    }

    /** Row-major index of (a, b, c, d) in a tensor of dims (_, B, C, D). */
    static long at(int a, int b, int c, int d, int dimB, int dimC, int dimD) {
        return (((long) a * dimB + b) * dimC + c) * dimD + d;
    }

    @Override public void close() { activationBackward.close(); }

    @Override public String toString() { return op; }
}

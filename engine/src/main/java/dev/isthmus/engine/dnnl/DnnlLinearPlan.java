package dev.isthmus.engine.dnnl;

import static dev.isthmus.bindings.dnnl.dnnl_h.*;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.PlanHints;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * A fully connected layer as oneDNN inner-product primitives
 * (https://uxlfoundation.github.io/oneDNN/dev_guide_inner_product.html): forward (training),
 * backward-data and backward-weights hinted by the forward. Every descriptor is plain, so no
 * reorders: oneDNN runs plain inner products as GEMMs, and blocking the weights would mean
 * reordering all of them twice per step (AlexNet's fc6 weights are 151 MB).
 *
 * <pre>
 *   src, diffSrc           (N, IC)    ab; any tensor with N*IC elements (an (N, C, H, W) one is flattened)
 *   weights, diffWeights   (OC, IC)   ab
 *   bias, diffBias         (OC)       a
 *   dst, diffDst           (N, OC)    ab
 * </pre>
 */
public final class DnnlLinearPlan extends DnnlOpPlan implements LinearPlan {

    private final LinearSpec spec;
    private final String op;
    // Shapes cached: a spec's shape methods allocate, and the hot path must not.
    private final Shape dstShape, weightsShape, biasShape;
    private final long srcElements;
    private final DnnlCall forward, backwardData, backwardWeights;
    private final boolean training;   // false: forward_inference only
    private final int fSrc, fWeights, fDst, fBias, dDiffSrc, dWeights, dDiffDst, wSrc, wDiffWeights, wDiffDst, wDiffBias;

    DnnlLinearPlan(DnnlBackend backend, LinearSpec spec) {
        this(backend, spec, PlanHints.TRAINING);
    }

    /** For inference a {@code forward_inference} primitive only; the backward methods then throw. */
    DnnlLinearPlan(DnnlBackend backend, LinearSpec spec, PlanHints hints) {
        super(backend, spec.toString() + (hints.training() ? "" : " inference"));
        this.spec = spec;
        this.training = hints.training();
        this.op = spec.toString();
        this.dstShape = spec.dstShape();
        this.weightsShape = spec.weightsShape();
        this.biasShape = spec.hasBias() ? spec.biasShape() : null;   // null: no bias
        this.srcElements = spec.srcShape().elements();
        try {
            // A src in a (N, C, H, W) blocked layout (inference, after a convolution or pooling) is reordered to
            // plain NCHW at the boundary, and the inner product runs on 4-D plain src and (OC, C, H, W) weights:
            // the same memory as (N, IC) and (OC, IC) row-major, so the weights stay as they are.
            long[] blockedDims = hints.src() instanceof DnnlLayout l && l.dims().length == 4 ? l.dims() : null;
            Dnnl.MemoryDesc src = own(blockedDims == null ? Dnnl.MemoryDesc.of(spec.srcShape().longDims(), dnnl_f32(), dnnl_ab())
                    : Dnnl.MemoryDesc.of(blockedDims, dnnl_f32(), dnnl_abcd()));
            Dnnl.MemoryDesc weights = own(blockedDims == null ? Dnnl.MemoryDesc.of(spec.weightsShape().longDims(), dnnl_f32(), dnnl_ab())
                    : Dnnl.MemoryDesc.of(new long[] {spec.outFeatures(), blockedDims[1], blockedDims[2], blockedDims[3]}, dnnl_f32(), dnnl_abcd()));
            Dnnl.MemoryDesc srcUser = blockedDims == null ? src : ((DnnlLayout) hints.src()).md();
            Dnnl.MemoryDesc dst = own(Dnnl.MemoryDesc.of(spec.dstShape().longDims(), dnnl_f32(), dnnl_ab()));
            Dnnl.MemoryDesc bias = spec.hasBias() ? own(Dnnl.MemoryDesc.of(new long[] {spec.outFeatures()}, dnnl_f32(), dnnl_a())) : null;
            MemorySegment biasMd = bias == null ? MemorySegment.NULL : bias.handle();
            MemorySegment engine = engine().handle(), attr = attr().handle();

            // With weights kept in the primitive's layout (inference), the inner product can take the blocked src
            // as it comes, its weights laid out to match once: no reorder per call at all.
            Dnnl.PrimitiveDesc travelling = null;
            if (!training && blockedDims != null && hints.keepWeights()) {
                Dnnl.MemoryDesc weightsAny = own(Dnnl.MemoryDesc.of(
                        new long[] {spec.outFeatures(), blockedDims[1], blockedDims[2], blockedDims[3]}, dnnl_f32(), dnnl_format_tag_any()));
                travelling = optimized(() -> Dnnl.PrimitiveDesc.create("dnnl_inner_product_forward_primitive_desc_create", op,
                        s -> dnnl_inner_product_forward_primitive_desc_create(s, engine, dnnl_forward_inference(),
                                srcUser.handle(), weightsAny.handle(), biasMd, dst.handle(), attr)));
            }
            Dnnl.PrimitiveDesc fwd = travelling != null ? travelling : own(Dnnl.PrimitiveDesc.create("dnnl_inner_product_forward_primitive_desc_create", op,
                    s -> dnnl_inner_product_forward_primitive_desc_create(s, engine,
                            training ? dnnl_forward_training() : dnnl_forward_inference(),
                            src.handle(), weights.handle(), biasMd, dst.handle(), attr)));
            forward = call("forward", fwd);
            fSrc = forward.input(DNNL_ARG_SRC(), srcUser);
            fWeights = forward.input(DNNL_ARG_WEIGHTS(), travelling != null ? own(fwd.argMd(DNNL_ARG_WEIGHTS())) : weights);
            fDst = forward.output(DNNL_ARG_DST(), dst);
            fBias = bias == null ? -1 : forward.input(DNNL_ARG_BIAS(), bias);
            if (!training) {
                backwardData = backwardWeights = null;
                dDiffSrc = dWeights = dDiffDst = wSrc = wDiffWeights = wDiffDst = wDiffBias = -1;
                return;
            }
            Dnnl.PrimitiveDesc bwdData = own(Dnnl.PrimitiveDesc.create("dnnl_inner_product_backward_data_primitive_desc_create", op,
                    s -> dnnl_inner_product_backward_data_primitive_desc_create(s, engine,
                            src.handle(), weights.handle(), dst.handle(), fwd.handle(), attr)));
            Dnnl.PrimitiveDesc bwdWeights = own(Dnnl.PrimitiveDesc.create("dnnl_inner_product_backward_weights_primitive_desc_create", op,
                    s -> dnnl_inner_product_backward_weights_primitive_desc_create(s, engine,
                            src.handle(), weights.handle(), biasMd, dst.handle(), fwd.handle(), attr)));

            backwardData = call("backward-data", bwdData);
            dDiffSrc = backwardData.output(DNNL_ARG_DIFF_SRC(), src);
            dWeights = backwardData.input(DNNL_ARG_WEIGHTS(), weights);
            dDiffDst = backwardData.input(DNNL_ARG_DIFF_DST(), dst);

            backwardWeights = call("backward-weights", bwdWeights);
            wSrc = backwardWeights.input(DNNL_ARG_SRC(), src);
            wDiffWeights = backwardWeights.output(DNNL_ARG_DIFF_WEIGHTS(), weights);
            wDiffDst = backwardWeights.input(DNNL_ARG_DIFF_DST(), dst);
            wDiffBias = bias == null ? -1 : backwardWeights.output(DNNL_ARG_DIFF_BIAS(), bias);
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    @Override public LinearSpec spec() { return spec; }

    @Override public void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias) {
        checkOpen();
        Checks.tensorInAnyLayout(op, "dst", dst, dstShape, DType.F32);
        Checks.elementsInAnyLayout(op, "src", src, srcElements);
        Checks.tensorInAnyLayout(op, "weights", weights, weightsShape, DType.F32);
        Checks.bias(op, "bias", bias, biasShape, "layer");
        Context c = acquire();
        try {
            DnnlCall.Bound f = c.call(forward);
            f.set(fSrc, src, "src");
            f.set(fWeights, weights, "weights");
            f.set(fDst, dst, "dst");
            if (bias != null) f.set(fBias, bias, "bias");
            run(c, forward);
        } finally {
            release(c);
        }
    }

    @Override public void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights) {
        checkOpen();
        requireTraining("backwardData");
        Checks.elements(op, "diffSrc", diffSrc, srcElements);
        Checks.tensorInAnyLayout(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensorInAnyLayout(op, "weights", weights, weightsShape, DType.F32);
        Context c = acquire();
        try {
            DnnlCall.Bound d = c.call(backwardData);
            d.set(dDiffSrc, diffSrc, "diffSrc");
            d.set(dWeights, weights, "weights");
            d.set(dDiffDst, diffDst, "diffDst");
            run(c, backwardData);
        } finally {
            release(c);
        }
    }

    @Override public void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src) {
        checkOpen();
        requireTraining("backwardWeights");
        Checks.tensorInAnyLayout(op, "diffWeights", diffWeights, weightsShape, DType.F32);
        Checks.bias(op, "diffBias", diffBias, biasShape, "layer");
        Checks.tensorInAnyLayout(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.elementsInAnyLayout(op, "src", src, srcElements);
        Context c = acquire();
        try {
            DnnlCall.Bound b = c.call(backwardWeights);
            b.set(wSrc, src, "src");
            b.set(wDiffWeights, diffWeights, "diffWeights");
            b.set(wDiffDst, diffDst, "diffDst");
            if (diffBias != null) b.set(wDiffBias, diffBias, "diffBias");
            run(c, backwardWeights);
        } finally {
            release(c);
        }
    }

    private void requireTraining(String pass) {
        if (!training) throw new IllegalStateException(op + ": " + pass + " on a plan created for inference (it has no backward primitives)");
    }

    /** The implementations and layouts oneDNN chose, one line per primitive. */
    public String layouts() {
        checkOpen();
        String[] f = spec.hasBias() ? new String[] {"src", "weights", "dst", "bias"} : new String[] {"src", "weights", "dst"};
        String[] w = spec.hasBias() ? new String[] {"src", "diffWeights", "diffDst", "diffBias"} : new String[] {"src", "diffWeights", "diffDst"};
        if (!training) return forward.describe(f);
        return forward.describe(f) + "\n" + backwardData.describe("diffSrc", "weights", "diffDst") + "\n" + backwardWeights.describe(w);
    }

    @Override public Layout dstLayout() { return forward.layout(fDst); }

    @Override public Layout srcLayout() { return forward.layout(fSrc); }

    @Override public Layout weightsLayout() { return forward.layout(fWeights); }

    @Override public String toString() { return "dnnl " + op; }
}

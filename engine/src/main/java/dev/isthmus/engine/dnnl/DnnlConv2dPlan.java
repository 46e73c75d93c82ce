package dev.isthmus.engine.dnnl;

import static dev.isthmus.bindings.dnnl.dnnl_h.*;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.FusedActivation;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A 2-D convolution as three oneDNN primitives (https://uxlfoundation.github.io/oneDNN/dev_guide_convolution.html):
 * forward (training), backward-data and backward-weights, the backward ones hinted by the
 * forward one, all created once from descriptors with {@code dnnl_format_tag_any} so oneDNN
 * picks its fastest layouts (blocked {@code nChw16c}-like activations, {@code Ohwi16o}-like
 * weights). User tensors stay plain:
 *
 * <pre>
 *   src, diffSrc            (N, IC, IH, IW)          abcd (nchw)
 *   dst, diffDst            (N, OC, OH, OW)          abcd (nchw)
 *   weights, diffWeights    (OC, IC/G, KH, KW)       abcd (oihw); for G > 1 the same memory as
 *                           (G, OC/G, IC/G, KH, KW)  abcde (goihw)
 *   bias, diffBias          (OC)                     a
 * </pre>
 *
 * Reorder policy: an argument is reordered (into a per-context buffer for inputs, out of it for
 * outputs) only where the primitive's layout differs from the plain one; {@link #reorderCount()}
 * counts them and {@link #layouts()} says which. All-plain descriptors are no alternative: oneDNN
 * 3.13 then picks {@code jit_uni_ncsp:conv+ref:any}, 50 to 100 times slower on LeNet's layers.
 * One exception: with at most 4 input channels per group, backward-data takes a plain diffSrc
 * when an optimized implementation accepts it (a blocked one pads the channels to 16).
 * Backward passes write, they do not accumulate.
 *
 * <p>A fused activation is an eltwise post-op of the forward primitive: oneDNN applies it to each
 * block of dst in registers before storing it, so it costs no pass over memory. oneDNN has no
 * backward post-ops; {@link #backwardActivation} is the backend's eltwise kernel over dst.
 */
public final class DnnlConv2dPlan extends DnnlOpPlan implements Conv2dPlan {
    private static final int FORWARD = 0, BACKWARD_DATA = 1, BACKWARD_WEIGHTS = 2;
    /** Input channels per group up to which backward-data prefers a plain diffSrc (see the constructor). */
    private static final int PLAIN_DIFF_SRC_MAX_CHANNELS = 4;

    private final Conv2dSpec spec;
    private final String op;
    // Shapes cached: a spec's shape methods allocate, and the hot path must not.
    private final Shape srcShape, dstShape, weightsShape, biasShape;
    private final DnnlCall forward, backwardData, backwardWeights;
    // Argument indices in each call.
    private final int fSrc, fWeights, fDst, fBias;
    private final int dDiffSrc, dWeights, dDiffDst;
    private final int wSrc, wDiffWeights, wDiffDst, wDiffBias;
    private final FusedActivation activation;

    DnnlConv2dPlan(DnnlBackend backend, Conv2dSpec spec) {
        this(backend, spec, false);
    }

    /** With {@code plain}, every descriptor is plain (no reorders, oneDNN's plain-layout kernels); for measurements. */
    DnnlConv2dPlan(DnnlBackend backend, Conv2dSpec spec, boolean plain) {
        super(backend, spec.toString());
        this.spec = spec;
        this.op = spec.toString();
        this.srcShape = spec.srcShape();
        this.dstShape = spec.dstShape();
        this.weightsShape = spec.weightsShape();
        this.biasShape = spec.hasBias() ? spec.biasShape() : null;   // null: no bias
        this.activation = new FusedActivation(backend, spec, op);
        try (Arena a = Arena.ofConfined()) {
            Window w = spec.window();
            int g = spec.groups();
            long[] srcDims = spec.srcShape().longDims();
            long[] dstDims = spec.dstShape().longDims();
            long[] weightsDims = g == 1 ? spec.weightsShape().longDims()
                    : new long[] {g, spec.outChannels() / g, spec.inChannels() / g, w.kernelHeight(), w.kernelWidth()};
            int weightsTag = g == 1 ? dnnl_abcd() : dnnl_abcde();

            int any = plain ? dnnl_abcd() : dnnl_format_tag_any();
            Dnnl.MemoryDesc srcAny = own(Dnnl.MemoryDesc.of(srcDims, dnnl_f32(), any));
            Dnnl.MemoryDesc weightsAny = own(Dnnl.MemoryDesc.of(weightsDims, dnnl_f32(), plain ? weightsTag : any));
            Dnnl.MemoryDesc dstAny = own(Dnnl.MemoryDesc.of(dstDims, dnnl_f32(), any));
            Dnnl.MemoryDesc srcPlain = own(Dnnl.MemoryDesc.of(srcDims, dnnl_f32(), dnnl_abcd()));
            Dnnl.MemoryDesc weightsPlain = own(Dnnl.MemoryDesc.of(weightsDims, dnnl_f32(), weightsTag));
            Dnnl.MemoryDesc dstPlain = own(Dnnl.MemoryDesc.of(dstDims, dnnl_f32(), dnnl_abcd()));
            Dnnl.MemoryDesc bias = spec.hasBias() ? own(Dnnl.MemoryDesc.of(new long[] {spec.outChannels()}, dnnl_f32(), dnnl_a())) : null;
            MemorySegment biasMd = bias == null ? MemorySegment.NULL : bias.handle();

            MemorySegment strides = Dnnl.dims(a, w.strideHeight(), w.strideWidth());
            MemorySegment dilates = Dnnl.dims(a, w.dilationHeight(), w.dilationWidth());
            MemorySegment padL = Dnnl.dims(a, w.padTop(), w.padLeft());
            MemorySegment padR = Dnnl.dims(a, w.padBottom(), w.padRight());
            MemorySegment engine = engine().handle(), attr = attr().handle();
            MemorySegment forwardAttr = spec.hasActivation()
                    ? own(Dnnl.Attr.userScratchpad(postOps(spec.activation()))).handle() : attr;

            Dnnl.PrimitiveDesc fwd = own(Dnnl.PrimitiveDesc.create("dnnl_convolution_forward_primitive_desc_create", op,
                    s -> dnnl_convolution_forward_primitive_desc_create(s, engine, dnnl_forward_training(), dnnl_convolution_direct(),
                            srcAny.handle(), weightsAny.handle(), biasMd, dstAny.handle(), strides, dilates, padL, padR, forwardAttr)));
            // A blocked diffSrc pads the input channels to the block (16): for LeNet's C1 (one channel) that is
            // 16 times the work, and the plain GEMM implementation is 4x faster (measured; for 6 channels the
            // blocked one still wins). So with at most 4 channels per group, where the forward kept src plain,
            // ask backward-data for a plain diffSrc, unless only a reference implementation takes it.
            Dnnl.PrimitiveDesc bwdData = null;
            try (Dnnl.MemoryDesc fwdSrc = fwd.argMd(DNNL_ARG_SRC())) {
                if (spec.inChannels() / g <= PLAIN_DIFF_SRC_MAX_CHANNELS && fwdSrc.sameAs(srcPlain)) {
                    Dnnl.PrimitiveDesc candidate = null;
                    try {
                        candidate = Dnnl.PrimitiveDesc.create("dnnl_convolution_backward_data_primitive_desc_create", op,
                                s -> dnnl_convolution_backward_data_primitive_desc_create(s, engine, dnnl_convolution_direct(),
                                        srcPlain.handle(), weightsAny.handle(), dstAny.handle(), strides, dilates, padL, padR, fwd.handle(), attr));
                        if (!candidate.implementation().contains("ref")) bwdData = own(candidate);
                    } catch (DnnlException e) {
                        // no implementation takes a plain diffSrc here: use oneDNN's layout
                    } finally {
                        if (candidate != null && bwdData != candidate) candidate.close();
                    }
                }
            }
            if (bwdData == null) {
                bwdData = own(Dnnl.PrimitiveDesc.create("dnnl_convolution_backward_data_primitive_desc_create", op,
                        s -> dnnl_convolution_backward_data_primitive_desc_create(s, engine, dnnl_convolution_direct(),
                                srcAny.handle(), weightsAny.handle(), dstAny.handle(), strides, dilates, padL, padR, fwd.handle(), attr)));
            }
            Dnnl.PrimitiveDesc bwdWeights = own(Dnnl.PrimitiveDesc.create("dnnl_convolution_backward_weights_primitive_desc_create", op,
                    s -> dnnl_convolution_backward_weights_primitive_desc_create(s, engine, dnnl_convolution_direct(),
                            srcAny.handle(), weightsAny.handle(), biasMd, dstAny.handle(), strides, dilates, padL, padR, fwd.handle(), attr)));

            forward = call("forward", fwd);
            fSrc = forward.input(DNNL_ARG_SRC(), srcPlain);
            fWeights = forward.input(DNNL_ARG_WEIGHTS(), weightsPlain);
            fDst = forward.output(DNNL_ARG_DST(), dstPlain);
            fBias = bias == null ? -1 : forward.input(DNNL_ARG_BIAS(), bias);

            backwardData = call("backward-data", bwdData);
            dDiffSrc = backwardData.output(DNNL_ARG_DIFF_SRC(), srcPlain);
            dWeights = backwardData.input(DNNL_ARG_WEIGHTS(), weightsPlain);
            dDiffDst = backwardData.input(DNNL_ARG_DIFF_DST(), dstPlain);

            backwardWeights = call("backward-weights", bwdWeights);
            wSrc = backwardWeights.input(DNNL_ARG_SRC(), srcPlain);
            wDiffWeights = backwardWeights.output(DNNL_ARG_DIFF_WEIGHTS(), weightsPlain);
            wDiffDst = backwardWeights.input(DNNL_ARG_DIFF_DST(), dstPlain);
            wDiffBias = bias == null ? -1 : backwardWeights.output(DNNL_ARG_DIFF_BIAS(), bias);
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /** The eltwise post-ops computing {@code kind}; scaled tanh is a tanh between two linear scalings. */
    private static List<Dnnl.Eltwise> postOps(EltwiseKind kind) {
        return switch (kind) {
            case RELU -> List.of(new Dnnl.Eltwise(dnnl_eltwise_relu(), 0f, 0f));
            case TANH -> List.of(new Dnnl.Eltwise(dnnl_eltwise_tanh(), 0f, 0f));
            case SIGMOID -> List.of(new Dnnl.Eltwise(dnnl_eltwise_logistic(), 0f, 0f));
            case SCALED_TANH -> List.of(new Dnnl.Eltwise(dnnl_eltwise_linear(), EltwiseKind.SCALED_TANH_S, 0f),
                    new Dnnl.Eltwise(dnnl_eltwise_tanh(), 0f, 0f),
                    new Dnnl.Eltwise(dnnl_eltwise_linear(), EltwiseKind.SCALED_TANH_A, 0f));
        };
    }

    @Override public Conv2dSpec spec() { return spec; }

    @Override public void backwardActivation(Tensor diffPre, Tensor diffDst, Tensor dst) {
        enter();
        try {
            activation.backward(diffPre, diffDst, dst);
        } finally {
            exit();
        }
    }

    @Override public void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias) {
        checkOpen();
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        Checks.bias(op, "bias", bias, biasShape, "convolution");
        Context c = acquire();
        try {
            DnnlCall.Bound f = c.call(FORWARD);
            f.set(fSrc, src.segment());
            f.set(fWeights, weights.segment());
            f.set(fDst, dst.segment());
            if (bias != null) f.set(fBias, bias.segment());
            run(c, FORWARD);
        } finally {
            release(c);
        }
    }

    @Override public void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights) {
        checkOpen();
        Checks.tensor(op, "diffSrc", diffSrc, srcShape, DType.F32);
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        Context c = acquire();
        try {
            DnnlCall.Bound d = c.call(BACKWARD_DATA);
            d.set(dDiffSrc, diffSrc.segment());
            d.set(dWeights, weights.segment());
            d.set(dDiffDst, diffDst.segment());
            run(c, BACKWARD_DATA);
        } finally {
            release(c);
        }
    }

    @Override public void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src) {
        checkOpen();
        Checks.tensor(op, "diffWeights", diffWeights, weightsShape, DType.F32);
        Checks.bias(op, "diffBias", diffBias, biasShape, "convolution");
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
        Context c = acquire();
        try {
            DnnlCall.Bound b = c.call(BACKWARD_WEIGHTS);
            b.set(wSrc, src.segment());
            b.set(wDiffWeights, diffWeights.segment());
            b.set(wDiffDst, diffDst.segment());
            if (diffBias != null) b.set(wDiffBias, diffBias.segment());
            run(c, BACKWARD_WEIGHTS);
        } finally {
            release(c);
        }
    }

    /**
     * The implementations and layouts oneDNN chose, one line per primitive, e.g.
     * {@code forward brg_conv_fwd:avx512_core src abcd weights abcd->Acdb16a dst aBcd16b->abcd bias a};
     * {@code x->y} marks a reorder per call.
     */
    public String layouts() {
        checkOpen();
        return forward.describe(argNames("src", "weights", "dst", "bias"))
                + (spec.hasActivation() ? " post-op " + spec.activation().name().toLowerCase(java.util.Locale.ROOT) : "") + "\n"
                + backwardData.describe("diffSrc", "weights", "diffDst") + "\n"
                + backwardWeights.describe(argNames("src", "diffWeights", "diffDst", "diffBias"));
    }

    private String[] argNames(String... names) {
        return spec.hasBias() ? names : java.util.Arrays.copyOf(names, names.length - 1);
    }

    /** Reorders one forward, backward-data and backward-weights execute together (the per-step cost). */
    public int reordersPerStep() {
        int n = 0;
        for (DnnlCall c : new DnnlCall[] {forward, backwardData, backwardWeights}) n += c.reorderCount();
        return n;
    }

    @Override public void close() {
        super.close();   // waits for the calls in flight, backwardActivation's included
        activation.close();
    }

    @Override public String toString() { return "dnnl " + op; }
}

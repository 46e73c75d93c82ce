package dev.isthmus.engine.dnnl;

import static dev.isthmus.bindings.dnnl.dnnl_h.*;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.PlanHints;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * 2-D pooling as oneDNN primitives (https://uxlfoundation.github.io/oneDNN/dev_guide_pooling.html):
 * a training forward (max pooling writes its workspace, whose size and format oneDNN decides),
 * an inference forward without workspace, and a backward hinted by the training forward.
 * Pooling is memory-bound, so a training plan's primitives work on the plain NCHW tensors
 * directly: no reorders. An inference plan ({@link PlanHints}) has the inference primitive only and
 * works in the layout its src arrives in (a convolution's nhwc), writing dst in the same. oneDNN's pooling takes left and right padding and dilation 0 (none).
 *
 * <pre>
 *   src, diffSrc   (N, C, IH, IW)   abcd
 *   dst, diffDst   (N, C, OH, OW)   abcd
 *   workspace      (workspaceBytes()) U8, opaque; max pooling only
 * </pre>
 */
public final class DnnlPool2dPlan extends DnnlOpPlan implements Pool2dPlan {

    private final Pool2dSpec spec;
    private final String op;
    // Shapes cached: a spec's shape methods allocate, and the hot path must not.
    private final Shape srcShape, dstShape;
    private final long workspaceBytes;
    private final Shape workspaceShape;   // (workspaceBytes) U8; null without a workspace
    private final DnnlCall training, inference, backward;
    private final int tSrc, tDst, tWorkspace, iSrc, iDst, bDiffSrc, bDiffDst, bWorkspace;
    private final boolean trainingPlan;   // false: the inference primitive only

    DnnlPool2dPlan(DnnlBackend backend, Pool2dSpec spec) {
        this(backend, spec, PlanHints.TRAINING);
    }

    /**
     * For inference only the {@code forward_inference} primitive: no workspace ({@link #workspaceBytes()}
     * is 0), no backward; {@link #forwardTraining} and {@link #backward} throw.
     */
    DnnlPool2dPlan(DnnlBackend backend, Pool2dSpec spec, PlanHints hints) {
        super(backend, spec.toString() + (hints.training() ? "" : " inference"));
        this.spec = spec;
        this.trainingPlan = hints.training();
        this.op = spec.toString();
        this.srcShape = spec.srcShape();
        this.dstShape = spec.dstShape();
        try (Arena a = Arena.ofConfined()) {
            Window w = spec.window();
            int alg = switch (spec.kind()) {
                case MAX -> dnnl_pooling_max();
                case AVG_INCLUDE_PADDING -> dnnl_pooling_avg_include_padding();
                case AVG_EXCLUDE_PADDING -> dnnl_pooling_avg_exclude_padding();
            };
            boolean max = spec.kind() == Pool2dSpec.Kind.MAX;
            Dnnl.MemoryDesc src = own(Dnnl.MemoryDesc.of(spec.srcShape().longDims(), dnnl_f32(), dnnl_abcd()));
            Dnnl.MemoryDesc dst = own(Dnnl.MemoryDesc.of(spec.dstShape().longDims(), dnnl_f32(), dnnl_abcd()));
            MemorySegment strides = Dnnl.dims(a, w.strideHeight(), w.strideWidth());
            MemorySegment kernel = Dnnl.dims(a, w.kernelHeight(), w.kernelWidth());
            MemorySegment dilation = Dnnl.dims(a, 0, 0);
            MemorySegment padL = Dnnl.dims(a, w.padTop(), w.padLeft());
            MemorySegment padR = Dnnl.dims(a, w.padBottom(), w.padRight());
            MemorySegment engine = engine().handle(), attr = attr().handle();

            // Layouts travel (inference plans): src as the previous plan wrote it, dst in the layout oneDNN
            // picks for it (the src's) unless the next consumer reads plain; plain where no optimized
            // implementation takes those, behind a reorder.
            Dnnl.MemoryDesc srcUser = hints.src() instanceof DnnlLayout l ? l.md() : src;
            Dnnl.MemoryDesc dstAny = own(Dnnl.MemoryDesc.of(spec.dstShape().longDims(), dnnl_f32(), dnnl_format_tag_any()));
            Dnnl.PrimitiveDesc travelling = trainingPlan || (srcUser == src && hints.plainDst()) ? null
                    : optimized(() -> Dnnl.PrimitiveDesc.create("dnnl_pooling_forward_primitive_desc_create", op + " inference",
                            s -> dnnl_pooling_forward_primitive_desc_create(s, engine, dnnl_forward_inference(), alg,
                                    srcUser.handle(), (hints.plainDst() ? dst : dstAny).handle(), strides, kernel, dilation, padL, padR, attr)));
            Dnnl.PrimitiveDesc inferencePd = travelling != null ? travelling
                    : own(Dnnl.PrimitiveDesc.create("dnnl_pooling_forward_primitive_desc_create", op + " inference",
                    s -> dnnl_pooling_forward_primitive_desc_create(s, engine, dnnl_forward_inference(), alg,
                            src.handle(), dst.handle(), strides, kernel, dilation, padL, padR, attr)));
            if (!trainingPlan) {
                inference = call("forward-inference", inferencePd);
                iSrc = inference.input(DNNL_ARG_SRC(), srcUser);
                iDst = inference.output(DNNL_ARG_DST(), hints.plainDst() ? dst : own(inferencePd.argMd(DNNL_ARG_DST())));
                training = backward = null;
                tSrc = tDst = tWorkspace = bDiffSrc = bDiffDst = bWorkspace = -1;
                workspaceBytes = 0;
                workspaceShape = null;
                return;
            }
            Dnnl.PrimitiveDesc trainingPd = own(Dnnl.PrimitiveDesc.create("dnnl_pooling_forward_primitive_desc_create", op,
                    s -> dnnl_pooling_forward_primitive_desc_create(s, engine, dnnl_forward_training(), alg,
                            src.handle(), dst.handle(), strides, kernel, dilation, padL, padR, attr)));
            Dnnl.PrimitiveDesc backwardPd = own(Dnnl.PrimitiveDesc.create("dnnl_pooling_backward_primitive_desc_create", op,
                    s -> dnnl_pooling_backward_primitive_desc_create(s, engine, alg, src.handle(), dst.handle(),
                            strides, kernel, dilation, padL, padR, trainingPd.handle(), attr)));

            training = call("forward-training", trainingPd);
            tSrc = training.input(DNNL_ARG_SRC(), src);
            tDst = training.output(DNNL_ARG_DST(), dst);
            tWorkspace = max ? training.opaque(DNNL_ARG_WORKSPACE()) : -1;
            workspaceBytes = max ? training.byteSize(tWorkspace) : 0;

            inference = call("forward-inference", inferencePd);
            iSrc = inference.input(DNNL_ARG_SRC(), src);
            iDst = inference.output(DNNL_ARG_DST(), dst);

            backward = call("backward", backwardPd);
            bDiffSrc = backward.output(DNNL_ARG_DIFF_SRC(), src);
            bDiffDst = backward.input(DNNL_ARG_DIFF_DST(), dst);
            bWorkspace = max ? backward.opaque(DNNL_ARG_WORKSPACE()) : -1;
            workspaceShape = max ? Shape.of(Math.toIntExact(workspaceBytes)) : null;
            if (max && backward.byteSize(bWorkspace) != workspaceBytes) {
                throw new IllegalStateException(op + ": backward workspace " + backward.byteSize(bWorkspace)
                        + " bytes differs from the forward's " + workspaceBytes);
            }
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    @Override public Pool2dSpec spec() { return spec; }

    @Override public long workspaceBytes() { return workspaceBytes; }

    @Override public void forwardTraining(Tensor dst, Tensor workspace, Tensor src) {
        checkOpen();
        requireTraining("forwardTraining");
        Checks.tensorInAnyLayout(op, "dst", dst, dstShape, DType.F32);
        checkWorkspace(workspace);
        Checks.tensorInAnyLayout(op, "src", src, srcShape, DType.F32);
        Context c = acquire();
        try {
            DnnlCall.Bound t = c.call(training);
            t.set(tSrc, src, "src");
            t.set(tDst, dst, "dst");
            if (workspace != null) t.set(tWorkspace, workspace, "workspace");
            run(c, training);
        } finally {
            release(c);
        }
    }

    @Override public void forwardInference(Tensor dst, Tensor src) {
        checkOpen();
        Checks.tensorInAnyLayout(op, "dst", dst, dstShape, DType.F32);
        Checks.tensorInAnyLayout(op, "src", src, srcShape, DType.F32);
        Context c = acquire();
        try {
            DnnlCall.Bound i = c.call(inference);
            i.set(iSrc, src, "src");
            i.set(iDst, dst, "dst");
            run(c, inference);
        } finally {
            release(c);
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor workspace) {
        checkOpen();
        requireTraining("backward");
        Checks.tensorInAnyLayout(op, "diffSrc", diffSrc, srcShape, DType.F32);
        Checks.tensorInAnyLayout(op, "diffDst", diffDst, dstShape, DType.F32);
        checkWorkspace(workspace);
        Context c = acquire();
        try {
            DnnlCall.Bound b = c.call(backward);
            b.set(bDiffSrc, diffSrc, "diffSrc");
            b.set(bDiffDst, diffDst, "diffDst");
            if (workspace != null) b.set(bWorkspace, workspace, "workspace");
            run(c, backward);
        } finally {
            release(c);
        }
    }

    private void requireTraining(String pass) {
        if (!trainingPlan) throw new IllegalStateException(op + ": " + pass + " on a plan created for inference (no workspace, no backward)");
    }

    private void checkWorkspace(Tensor workspace) {
        if (workspaceBytes == 0) {
            if (workspace != null) {
                throw new IllegalArgumentException(op + ": workspace " + workspace.shape() + " given but " + spec.kind()
                        + " pooling has none (workspaceBytes() is 0)");
            }
        } else {
            Checks.tensor(op, "workspace", workspace, workspaceShape, DType.U8);
        }
    }

    /** The implementations and layouts oneDNN chose, one line per primitive. */
    public String layouts() {
        checkOpen();
        boolean max = workspaceBytes > 0;
        if (!trainingPlan) return inference.describe("src", "dst");
        return training.describe(max ? new String[] {"src", "dst", "workspace"} : new String[] {"src", "dst"}) + "\n"
                + inference.describe("src", "dst") + "\n"
                + backward.describe(max ? new String[] {"diffSrc", "diffDst", "workspace"} : new String[] {"diffSrc", "diffDst"});
    }

    /** The forward this plan runs in its propagation: the training one, or the inference one of an inference plan. */
    private DnnlCall mainForward() { return trainingPlan ? training : inference; }

    @Override public Layout dstLayout() { DnnlCall f = mainForward(); return f.layout(f == training ? tDst : iDst); }

    @Override public Layout srcLayout() { DnnlCall f = mainForward(); return f.layout(f == training ? tSrc : iSrc); }

    @Override public String toString() { return "dnnl " + op; }
}

package dev.isthmus.engine.dnnl;

import static dev.isthmus.bindings.dnnl.dnnl_h.*;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.PlanHints;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Local response normalisation across channels as oneDNN primitives
 * (https://uxlfoundation.github.io/oneDNN/dev_guide_lrn.html, {@code dnnl_lrn_across_channels},
 * alpha divided by the size as in {@link LrnSpec}): a training forward that writes a workspace
 * when the implementation keeps one (its size is the primitive descriptor's workspace query),
 * an inference forward without, and a backward hinted by the training forward that reads
 * src and that workspace. Every primitive runs in user scratchpad mode.
 *
 * <p>oneDNN's window is [c - (size-1)/2, c + (size-1)/2]: for an even size it is one channel
 * short of {@link LrnSpec}'s. And with size 1 on a tensor whose plain layout is also nhwc (one
 * channel, or 1 x 1 planes) oneDNN 3.13 crashes while generating its jit nhwc backward kernel.
 * So only odd sizes from 3 are planned here; {@link DnnlBackend#lrn} sends the others to the
 * cpu kernel.
 *
 * <p>Layout ({@link Layout#CHOSEN}): user tensors are plain NCHW. oneDNN 3.13 has a jit forward
 * for plain NCHW (jit:avx2) but only its reference backward, 7x slower than the jit backward on
 * nChw16c at AlexNet's shapes; its blocked jit pays two or three reorders per call. So each pass
 * (inference; the training forward with its backward, which share the workspace format) works on
 * plain tensors unless only the reference implementation takes them and a jit one takes
 * {@code nChw16c}: on AlexNet's shapes inference stays plain and training goes blocked, behind
 * reorders counted by {@link #reorderCount()}. Small shapes get the reference implementation in
 * either layout and stay plain. DnnlLrnTimingTest measures all three choices.
 *
 * <pre>
 *   src, dst, diffSrc, diffDst  (N, C, H, W)    abcd (user); abcd or aBcd16b (primitives)
 *   workspace                   (workspaceBytes()) U8, opaque; training forward and backward only
 * </pre>
 */
public final class DnnlLrnPlan extends DnnlOpPlan implements LrnPlan {

    private final LrnSpec spec;
    private final String op;
    private final Shape shape;   // cached: the hot path must not allocate
    private final long workspaceBytes;
    private final Shape workspaceShape;   // (workspaceBytes) U8; null without a workspace
    private final DnnlCall training, inference, backward;
    private final int tSrc, tDst, tWorkspace, iSrc, iDst, bSrc, bDiffDst, bDiffSrc, bWorkspace;
    private final boolean trainingPlan;   // false: the inference primitive only

    /** Which layouts the primitives work on; the user's tensors are plain NCHW in every case. */
    enum Layout {
        /** abcd everywhere: no reorders. */
        PLAIN,
        /** aBcd16b (nChw16c) everywhere, behind reorders. */
        BLOCKED,
        /**
         * Per pass (inference; training forward with its backward): plain, unless oneDNN has only its
         * reference implementation for plain and a jit one for blocked. The default.
         */
        CHOSEN
    }

    DnnlLrnPlan(DnnlBackend backend, LrnSpec spec) {
        this(backend, spec, Layout.CHOSEN);
    }

    DnnlLrnPlan(DnnlBackend backend, LrnSpec spec, Layout layout) {
        this(backend, spec, layout, PlanHints.TRAINING);
    }

    /** For inference the {@code forward_inference} primitive only: no workspace, no backward (those methods throw). */
    DnnlLrnPlan(DnnlBackend backend, LrnSpec spec, Layout layout, PlanHints hints) {
        super(backend, spec.toString() + (hints.training() ? "" : " inference"));
        this.spec = spec;
        this.trainingPlan = hints.training();
        this.op = spec.toString();
        this.shape = spec.shape();
        if (spec.size() % 2 == 0 || spec.size() == 1) {
            throw failed(new IllegalArgumentException(op + ": oneDNN's LRN takes odd sizes from 3 here (its window is"
                    + " symmetric; size 1 crashes its nhwc backward kernel generator)"));
        }
        try {
            long[] dims = shape.longDims();
            Dnnl.MemoryDesc plain = own(Dnnl.MemoryDesc.of(dims, dnnl_f32(), dnnl_abcd()));
            Dnnl.MemoryDesc blocked = own(Dnnl.MemoryDesc.of(dims, dnnl_f32(), dnnl_aBcd16b()));

            // Layouts travel (inference plans): src and dst in the layout the previous plan wrote, where an
            // optimized implementation takes it; else the choice below behind reorders.
            Dnnl.MemoryDesc srcUser = hints.src() instanceof DnnlLayout l ? l.md() : plain;
            Dnnl.PrimitiveDesc travelling = trainingPlan || srcUser == plain ? null
                    : optimized(() -> createForward(dnnl_forward_inference(), srcUser));
            Dnnl.PrimitiveDesc inferencePd = travelling != null ? travelling
                    : forwardPd(dnnl_forward_inference(), layout == Layout.BLOCKED ? blocked : plain);
            if (travelling == null && layout == Layout.CHOSEN && isReference(inferencePd)) {
                Dnnl.PrimitiveDesc b = forwardPd(dnnl_forward_inference(), blocked);
                if (isReference(b)) b.close(); else { inferencePd.close(); inferencePd = b; }
            }
            if (!trainingPlan) {
                inference = call("forward-inference", inferencePd);
                iSrc = inference.input(DNNL_ARG_SRC(), srcUser);
                iDst = inference.output(DNNL_ARG_DST(), hints.plainDst() ? plain : own(inferencePd.argMd(DNNL_ARG_DST())));
                training = backward = null;
                tSrc = tDst = tWorkspace = bSrc = bDiffDst = bDiffSrc = bWorkspace = -1;
                workspaceBytes = 0;
                workspaceShape = null;
                return;
            }
            Dnnl.PrimitiveDesc[] pair = trainingPair(layout == Layout.BLOCKED ? blocked : plain);   // training forward, backward
            if (layout == Layout.CHOSEN && (isReference(pair[0]) || isReference(pair[1]))) {
                Dnnl.PrimitiveDesc[] b = trainingPair(blocked);
                boolean better = !isReference(b[0]) && !isReference(b[1]);
                for (Dnnl.PrimitiveDesc pd : better ? pair : b) pd.close();
                if (better) pair = b;
            }
            Dnnl.PrimitiveDesc trainingPd = pair[0], backwardPd = pair[1];

            boolean hasWorkspace = hasWorkspace(trainingPd);
            boolean backwardReadsWorkspace = hasWorkspace(backwardPd);

            training = call("forward-training", trainingPd);
            tSrc = training.input(DNNL_ARG_SRC(), plain);
            tDst = training.output(DNNL_ARG_DST(), plain);
            tWorkspace = hasWorkspace ? training.opaque(DNNL_ARG_WORKSPACE()) : -1;
            workspaceBytes = hasWorkspace ? training.byteSize(tWorkspace) : 0;
            workspaceShape = hasWorkspace ? Shape.of(Math.toIntExact(workspaceBytes)) : null;

            inference = call("forward-inference", inferencePd);
            iSrc = inference.input(DNNL_ARG_SRC(), plain);
            iDst = inference.output(DNNL_ARG_DST(), plain);

            backward = call("backward", backwardPd);
            bSrc = backward.input(DNNL_ARG_SRC(), plain);
            bDiffDst = backward.input(DNNL_ARG_DIFF_DST(), plain);
            bDiffSrc = backward.output(DNNL_ARG_DIFF_SRC(), plain);
            // A forward implementation may keep a workspace that the backward one oneDNN picked does not read
            // (plain layouts: a jit forward, the reference backward); the training forward still writes it.
            bWorkspace = backwardReadsWorkspace ? backward.opaque(DNNL_ARG_WORKSPACE()) : -1;
            if (backwardReadsWorkspace && backward.byteSize(bWorkspace) != workspaceBytes) {
                throw new IllegalStateException(op + ": backward workspace " + backward.byteSize(bWorkspace)
                        + " bytes differs from the forward's " + workspaceBytes);
            }
        } catch (RuntimeException e) {
            throw failed(e);
        }
    }

    /** An LRN forward descriptor (training or inference) on src and dst of layout {@code md}; owned by this plan. */
    private Dnnl.PrimitiveDesc forwardPd(int propKind, Dnnl.MemoryDesc md) { return own(createForward(propKind, md)); }

    /** Like {@link #forwardPd}, not owned yet. */
    private Dnnl.PrimitiveDesc createForward(int propKind, Dnnl.MemoryDesc md) {
        MemorySegment engine = engine().handle(), attr = attr().handle();
        return Dnnl.PrimitiveDesc.create("dnnl_lrn_forward_primitive_desc_create", op + " " + md.layout(),
                s -> dnnl_lrn_forward_primitive_desc_create(s, engine, propKind, dnnl_lrn_across_channels(),
                        md.handle(), md.handle(), spec.size(), spec.alpha(), spec.beta(), spec.k(), attr));
    }

    /** A training forward descriptor and the backward it hints, every tensor of layout {@code md}; owned by this plan. */
    private Dnnl.PrimitiveDesc[] trainingPair(Dnnl.MemoryDesc md) {
        Dnnl.PrimitiveDesc forward = forwardPd(dnnl_forward_training(), md);
        MemorySegment engine = engine().handle(), attr = attr().handle();
        Dnnl.PrimitiveDesc backward = own(Dnnl.PrimitiveDesc.create("dnnl_lrn_backward_primitive_desc_create", op + " " + md.layout(),
                s -> dnnl_lrn_backward_primitive_desc_create(s, engine, dnnl_lrn_across_channels(), md.handle(), md.handle(),
                        md.handle(), spec.size(), spec.alpha(), spec.beta(), spec.k(), forward.handle(), attr)));
        return new Dnnl.PrimitiveDesc[] {forward, backward};
    }

    /** oneDNN's reference implementation ("ref:any"): plain loops, 7x slower than its jit on AlexNet's backward. */
    private static boolean isReference(Dnnl.PrimitiveDesc pd) { return pd.implementation().startsWith("ref"); }

    /** Whether the primitive descriptor names a workspace of more than 0 bytes. */
    private static boolean hasWorkspace(Dnnl.PrimitiveDesc pd) {
        MemorySegment md = dnnl_primitive_desc_query_md(pd.handle(), dnnl_query_workspace_md(), 0);
        return !md.equals(MemorySegment.NULL) && dnnl_memory_desc_get_size(md) > 0;
    }

    @Override public LrnSpec spec() { return spec; }

    @Override public long workspaceBytes() { return workspaceBytes; }

    @Override public void forwardTraining(Tensor dst, Tensor workspace, Tensor src) {
        checkOpen();
        requireTraining("forwardTraining");
        Checks.tensorInAnyLayout(op, "dst", dst, shape, DType.F32);
        checkWorkspace(workspace);
        Checks.tensorInAnyLayout(op, "src", src, shape, DType.F32);
        Context c = acquire();
        try {
            DnnlCall.Bound t = c.call(training);
            t.set(tSrc, src, "src");
            t.set(tDst, dst, "dst");
            if (workspace != null && tWorkspace >= 0) t.set(tWorkspace, workspace, "workspace");
            run(c, training);
        } finally {
            release(c);
        }
    }

    @Override public void forwardInference(Tensor dst, Tensor src) {
        checkOpen();
        Checks.tensorInAnyLayout(op, "dst", dst, shape, DType.F32);
        Checks.tensorInAnyLayout(op, "src", src, shape, DType.F32);
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

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor src, Tensor workspace) {
        checkOpen();
        requireTraining("backward");
        Checks.tensorInAnyLayout(op, "diffSrc", diffSrc, shape, DType.F32);
        Checks.tensorInAnyLayout(op, "diffDst", diffDst, shape, DType.F32);
        Checks.tensorInAnyLayout(op, "src", src, shape, DType.F32);
        checkWorkspace(workspace);
        Context c = acquire();
        try {
            DnnlCall.Bound b = c.call(backward);
            b.set(bSrc, src, "src");
            b.set(bDiffDst, diffDst, "diffDst");
            b.set(bDiffSrc, diffSrc, "diffSrc");
            if (workspace != null && bWorkspace >= 0) b.set(bWorkspace, workspace, "workspace");
            run(c, backward);
        } finally {
            release(c);
        }
    }

    private void requireTraining(String pass) {
        if (!trainingPlan) throw new IllegalStateException(op + ": " + pass + " on a plan created for inference (no workspace, no backward)");
    }

    /** With a workspace: exactly workspaceBytes() U8. Without: null, or a U8 tensor that is ignored (as other backends). */
    private void checkWorkspace(Tensor workspace) {
        if (workspaceBytes > 0) Checks.tensor(op, "workspace", workspace, workspaceShape, DType.U8);
        else Checks.optionalWorkspace(op, workspace, 0);
    }

    /** The implementations and layouts oneDNN chose, one line per primitive. */
    public String layouts() {
        checkOpen();
        boolean ws = workspaceBytes > 0;
        if (!trainingPlan) return inference.describe("src", "dst");
        return training.describe(ws ? new String[] {"src", "dst", "workspace"} : new String[] {"src", "dst"}) + "\n"
                + inference.describe("src", "dst") + "\n"
                + backward.describe(ws ? new String[] {"src", "diffDst", "diffSrc", "workspace"} : new String[] {"src", "diffDst", "diffSrc"});
    }

    /** The forward this plan runs in its propagation: the training one, or the inference one of an inference plan. */
    private DnnlCall mainForward() { return trainingPlan ? training : inference; }

    @Override public dev.isthmus.engine.Layout dstLayout() { DnnlCall f = mainForward(); return f.layout(f == training ? tDst : iDst); }

    @Override public dev.isthmus.engine.Layout srcLayout() { DnnlCall f = mainForward(); return f.layout(f == training ? tSrc : iSrc); }

    @Override public String toString() { return "dnnl " + op; }
}

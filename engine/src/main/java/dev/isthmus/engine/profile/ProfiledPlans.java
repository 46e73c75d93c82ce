package dev.isthmus.engine.profile;

import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;

import static dev.isthmus.engine.profile.Probe.bytes;

/**
 * One wrapper per plan interface: each pass runs the wrapped plan between two clock reads of
 * its {@link Probe}, into the row made for that pass when the plan was created. Nothing else
 * changes: arguments, results, exceptions and closing are the wrapped plan's.
 */
final class ProfiledPlans {
    private ProfiledPlans() {}

    static final class Conv2d implements Conv2dPlan {
        private final Conv2dPlan inner;
        private final Probe probe;
        private final OpProfile.Row fwd, act, data, weights;

        Conv2d(Conv2dPlan inner, Probe probe, String layer) {
            this.inner = inner;
            this.probe = probe;
            Conv2dSpec s = inner.spec();
            String shape = s.toString();
            fwd = probe.profile.row(layer, "conv2d", "forward", probe.backend, shape, s.flops());
            act = probe.profile.row(layer, "conv2d", "backward_activation", probe.backend, shape, 0);
            data = probe.profile.row(layer, "conv2d", "backward_data", probe.backend, shape, s.flops());
            weights = probe.profile.row(layer, "conv2d", "backward_weights", probe.backend, shape, s.flops());
        }

        @Override public Conv2dSpec spec() { return inner.spec(); }

        @Override public void forward(Tensor dst, Tensor src, Tensor w, Tensor bias) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.forward(dst, src, w, bias);
            probe.done(fwd, e, t0, r0, bytes(dst) + bytes(src) + bytes(w) + bytes(bias));
        }

        @Override public void backwardActivation(Tensor diffPre, Tensor diffDst, Tensor dst) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.backwardActivation(diffPre, diffDst, dst);
            probe.done(act, e, t0, r0, bytes(diffPre) + bytes(diffDst) + bytes(dst));
        }

        @Override public void backwardData(Tensor diffSrc, Tensor diffDst, Tensor w) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.backwardData(diffSrc, diffDst, w);
            probe.done(data, e, t0, r0, bytes(diffSrc) + bytes(diffDst) + bytes(w));
        }

        @Override public void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.backwardWeights(diffWeights, diffBias, diffDst, src);
            probe.done(weights, e, t0, r0, bytes(diffWeights) + bytes(diffBias) + bytes(diffDst) + bytes(src));
        }

        @Override public Layout dstLayout() { return inner.dstLayout(); }

        @Override public Layout srcLayout() { return inner.srcLayout(); }

        @Override public Layout weightsLayout() { return inner.weightsLayout(); }

        @Override public void close() { inner.close(); }

        @Override public String toString() { return inner.toString(); }
    }

    static final class Pool2d implements Pool2dPlan {
        private final Pool2dPlan inner;
        private final Probe probe;
        private final OpProfile.Row fwd, infer, bwd;

        Pool2d(Pool2dPlan inner, Probe probe, String layer) {
            this.inner = inner;
            this.probe = probe;
            String shape = inner.spec().toString();
            fwd = probe.profile.row(layer, "pool2d", "forward", probe.backend, shape, 0);
            infer = probe.profile.row(layer, "pool2d", "forward_inference", probe.backend, shape, 0);
            bwd = probe.profile.row(layer, "pool2d", "backward", probe.backend, shape, 0);
        }

        @Override public Pool2dSpec spec() { return inner.spec(); }

        @Override public long workspaceBytes() { return inner.workspaceBytes(); }

        @Override public void forwardTraining(Tensor dst, Tensor workspace, Tensor src) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.forwardTraining(dst, workspace, src);
            probe.done(fwd, e, t0, r0, bytes(dst) + bytes(workspace) + bytes(src));
        }

        @Override public void forwardInference(Tensor dst, Tensor src) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.forwardInference(dst, src);
            probe.done(infer, e, t0, r0, bytes(dst) + bytes(src));
        }

        @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor workspace) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.backward(diffSrc, diffDst, workspace);
            probe.done(bwd, e, t0, r0, bytes(diffSrc) + bytes(diffDst) + bytes(workspace));
        }

        @Override public Layout dstLayout() { return inner.dstLayout(); }

        @Override public Layout srcLayout() { return inner.srcLayout(); }

        @Override public void close() { inner.close(); }

        @Override public String toString() { return inner.toString(); }
    }

    static final class Eltwise implements EltwisePlan {
        private final EltwisePlan inner;
        private final Probe probe;
        private final OpProfile.Row fwd, bwd;

        Eltwise(EltwisePlan inner, Probe probe, String layer) {
            this.inner = inner;
            this.probe = probe;
            String shape = "eltwise(" + inner.kind().name().toLowerCase(java.util.Locale.ROOT) + ", " + inner.elements() + ")";
            fwd = probe.profile.row(layer, "eltwise", "forward", probe.backend, shape, 0);
            bwd = probe.profile.row(layer, "eltwise", "backward", probe.backend, shape, 0);
        }

        @Override public EltwiseKind kind() { return inner.kind(); }

        @Override public long elements() { return inner.elements(); }

        @Override public void forward(Tensor dst, Tensor src) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.forward(dst, src);
            probe.done(fwd, e, t0, r0, bytes(dst) + bytes(src));
        }

        @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor dst) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.backward(diffSrc, diffDst, dst);
            probe.done(bwd, e, t0, r0, bytes(diffSrc) + bytes(diffDst) + bytes(dst));
        }

        @Override public void close() { inner.close(); }

        @Override public String toString() { return inner.toString(); }
    }

    static final class Linear implements LinearPlan {
        private final LinearPlan inner;
        private final Probe probe;
        private final OpProfile.Row fwd, data, weights;

        Linear(LinearPlan inner, Probe probe, String layer) {
            this.inner = inner;
            this.probe = probe;
            LinearSpec s = inner.spec();
            String shape = s.toString();
            fwd = probe.profile.row(layer, "linear", "forward", probe.backend, shape, s.flops());
            data = probe.profile.row(layer, "linear", "backward_data", probe.backend, shape, s.flops());
            weights = probe.profile.row(layer, "linear", "backward_weights", probe.backend, shape, s.flops());
        }

        @Override public LinearSpec spec() { return inner.spec(); }

        @Override public void forward(Tensor dst, Tensor src, Tensor w, Tensor bias) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.forward(dst, src, w, bias);
            probe.done(fwd, e, t0, r0, bytes(dst) + bytes(src) + bytes(w) + bytes(bias));
        }

        @Override public void backwardData(Tensor diffSrc, Tensor diffDst, Tensor w) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.backwardData(diffSrc, diffDst, w);
            probe.done(data, e, t0, r0, bytes(diffSrc) + bytes(diffDst) + bytes(w));
        }

        @Override public void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.backwardWeights(diffWeights, diffBias, diffDst, src);
            probe.done(weights, e, t0, r0, bytes(diffWeights) + bytes(diffBias) + bytes(diffDst) + bytes(src));
        }

        @Override public Layout dstLayout() { return inner.dstLayout(); }

        @Override public Layout srcLayout() { return inner.srcLayout(); }

        @Override public Layout weightsLayout() { return inner.weightsLayout(); }

        @Override public void close() { inner.close(); }

        @Override public String toString() { return inner.toString(); }
    }

    static final class SoftmaxCrossEntropy implements SoftmaxCrossEntropyPlan {
        private final SoftmaxCrossEntropyPlan inner;
        private final Probe probe;
        private final OpProfile.Row fwd, bwd;

        SoftmaxCrossEntropy(SoftmaxCrossEntropyPlan inner, Probe probe, String layer) {
            this.inner = inner;
            this.probe = probe;
            String shape = "softmax_cross_entropy(" + inner.batch() + " x " + inner.classes() + ")";
            fwd = probe.profile.row(layer, "softmax_cross_entropy", "forward", probe.backend, shape, 0);
            bwd = probe.profile.row(layer, "softmax_cross_entropy", "backward", probe.backend, shape, 0);
        }

        @Override public int batch() { return inner.batch(); }

        @Override public int classes() { return inner.classes(); }

        @Override public float forward(Tensor probs, Tensor logits, Tensor labels) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            float loss = inner.forward(probs, logits, labels);
            probe.done(fwd, e, t0, r0, bytes(probs) + bytes(logits) + bytes(labels));
            return loss;
        }

        @Override public void backward(Tensor diffLogits, Tensor probs, Tensor labels) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.backward(diffLogits, probs, labels);
            probe.done(bwd, e, t0, r0, bytes(diffLogits) + bytes(probs) + bytes(labels));
        }

        @Override public void close() { inner.close(); }

        @Override public String toString() { return inner.toString(); }
    }

    static final class Optimizer implements OptimizerPlan {
        private final OptimizerPlan inner;
        private final Probe probe;
        private final OpProfile.Row step;

        Optimizer(OptimizerPlan inner, Probe probe, String layer) {
            this.inner = inner;
            this.probe = probe;
            step = probe.profile.row(layer, "optimizer", "step", probe.backend, inner.spec() + " over " + inner.elements(), 0);
        }

        @Override public OptimizerSpec spec() { return inner.spec(); }

        @Override public long elements() { return inner.elements(); }

        @Override public void step(Tensor params, Tensor state, Tensor grads, float lr, long n) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.step(params, state, grads, lr, n);
            probe.done(step, e, t0, r0, bytes(params) + bytes(state) + bytes(grads));
        }

        @Override public void close() { inner.close(); }

        @Override public String toString() { return inner.toString(); }
    }

    static final class Lrn implements LrnPlan {
        private final LrnPlan inner;
        private final Probe probe;
        private final OpProfile.Row fwd, infer, bwd;

        Lrn(LrnPlan inner, Probe probe, String layer) {
            this.inner = inner;
            this.probe = probe;
            String shape = inner.spec().toString();
            fwd = probe.profile.row(layer, "lrn", "forward", probe.backend, shape, 0);
            infer = probe.profile.row(layer, "lrn", "forward_inference", probe.backend, shape, 0);
            bwd = probe.profile.row(layer, "lrn", "backward", probe.backend, shape, 0);
        }

        @Override public LrnSpec spec() { return inner.spec(); }

        @Override public long workspaceBytes() { return inner.workspaceBytes(); }

        @Override public void forwardTraining(Tensor dst, Tensor workspace, Tensor src) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.forwardTraining(dst, workspace, src);
            probe.done(fwd, e, t0, r0, bytes(dst) + bytes(workspace) + bytes(src));
        }

        @Override public void forwardInference(Tensor dst, Tensor src) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.forwardInference(dst, src);
            probe.done(infer, e, t0, r0, bytes(dst) + bytes(src));
        }

        @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor src, Tensor workspace) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.backward(diffSrc, diffDst, src, workspace);
            probe.done(bwd, e, t0, r0, bytes(diffSrc) + bytes(diffDst) + bytes(src) + bytes(workspace));
        }

        @Override public Layout dstLayout() { return inner.dstLayout(); }

        @Override public Layout srcLayout() { return inner.srcLayout(); }

        @Override public void close() { inner.close(); }

        @Override public String toString() { return inner.toString(); }
    }

    static final class Dropout implements DropoutPlan {
        private final DropoutPlan inner;
        private final Probe probe;
        private final OpProfile.Row fwd, bwd;

        Dropout(DropoutPlan inner, Probe probe, String layer) {
            this.inner = inner;
            this.probe = probe;
            String shape = "dropout(p=" + inner.probability() + ", " + inner.elements() + ")";
            fwd = probe.profile.row(layer, "dropout", "forward", probe.backend, shape, 0);
            bwd = probe.profile.row(layer, "dropout", "backward", probe.backend, shape, 0);
        }

        @Override public long elements() { return inner.elements(); }

        @Override public float probability() { return inner.probability(); }

        @Override public void forwardTraining(Tensor dst, Tensor mask, Tensor src, long seed) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.forwardTraining(dst, mask, src, seed);
            probe.done(fwd, e, t0, r0, bytes(dst) + bytes(mask) + bytes(src));
        }

        @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor mask) {
            PlanExecutionEvent e = new PlanExecutionEvent();
            long t0 = probe.start(e), r0 = probe.reorders();
            inner.backward(diffSrc, diffDst, mask);
            probe.done(bwd, e, t0, r0, bytes(diffSrc) + bytes(diffDst) + bytes(mask));
        }

        @Override public void close() { inner.close(); }

        @Override public String toString() { return inner.toString(); }
    }
}

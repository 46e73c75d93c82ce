package dev.isthmus.engine.cpu;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;

/**
 * A {@link SoftmaxCrossEntropyPlan} on host tensors over {@link SoftmaxKernels}:
 * single-threaded, nothing allocated per call.
 *
 * <pre>
 *   logits (N, K) F32   probs (N, K) F32   labels (N) S32   diffLogits (N, K) F32
 * </pre>
 */
public final class CpuSoftmaxCrossEntropyPlan implements SoftmaxCrossEntropyPlan {
    private final int batch;
    private final int classes;
    private final Shape rows;     // (N, K)
    private final Shape labelsShape;   // (N)
    private final String op;

    public CpuSoftmaxCrossEntropyPlan(int batch, int classes) {
        this.batch = Checks.positive("batch", batch);
        this.classes = Checks.positive("classes", classes);
        this.rows = Shape.of(batch, classes);
        this.labelsShape = Shape.of(batch);
        this.op = "softmax cross-entropy(" + batch + "x" + classes + ")";
    }

    @Override public int batch() { return batch; }

    @Override public int classes() { return classes; }

    @Override public float forward(Tensor probs, Tensor logits, Tensor labels) {
        Checks.tensor(op, "probs", probs, rows, DType.F32);
        Checks.tensor(op, "logits", logits, rows, DType.F32);
        Checks.tensor(op, "labels", labels, labelsShape, DType.S32);
        SoftmaxKernels.checkLabels(labels.segment(), batch, classes);
        return SoftmaxKernels.forward(probs.segment(), logits.segment(), labels.segment(), batch, classes);
    }

    @Override public void backward(Tensor diffLogits, Tensor probs, Tensor labels) {
        Checks.tensor(op, "diffLogits", diffLogits, rows, DType.F32);
        Checks.tensor(op, "probs", probs, rows, DType.F32);
        Checks.tensor(op, "labels", labels, labelsShape, DType.S32);
        SoftmaxKernels.checkLabels(labels.segment(), batch, classes);
        SoftmaxKernels.backward(diffLogits.segment(), probs.segment(), labels.segment(), batch, classes);
    }

    @Override public void close() {}

    @Override public String toString() { return "cpu " + op; }
}

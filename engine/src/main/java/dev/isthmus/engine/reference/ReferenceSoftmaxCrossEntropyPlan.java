package dev.isthmus.engine.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;

/**
 * Softmax with mean cross-entropy in double (PyTorch's CrossEntropyLoss):
 * p(n, j) = exp(x(n, j) - m) / s with m the row maximum and s = sum_j exp(x(n, j) - m);
 * loss = mean_n (log s - (x(n, label) - m)); diffLogits = (p - onehot(label)) / N.
 */
final class ReferenceSoftmaxCrossEntropyPlan implements SoftmaxCrossEntropyPlan {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

    private final int batch, classes;
    private final Shape rows, labelsShape;   // (N, K), (N)
    private final String op;

    ReferenceSoftmaxCrossEntropyPlan(int batch, int classes) {
        this.batch = Checks.positive("batch", batch);
        this.classes = Checks.positive("classes", classes);
        rows = Shape.of(batch, classes);
        labelsShape = Shape.of(batch);
        op = "reference softmax cross-entropy(" + batch + "x" + classes + ")";
    }

    @Override public int batch() { return batch; }

    @Override public int classes() { return classes; }

    @Override public float forward(Tensor probs, Tensor logits, Tensor labels) {
        Checks.tensor(op, "probs", probs, rows, DType.F32);
        Checks.tensor(op, "logits", logits, rows, DType.F32);
        MemorySegment l = checkLabels(labels);
        MemorySegment p = probs.segment(), x = logits.segment();
        double loss = 0;
        for (int r = 0; r < batch; r++) {
            long row = (long) r * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) max = Math.max(max, x.getAtIndex(F, row + j));
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.exp(x.getAtIndex(F, row + j) - max);
            for (int j = 0; j < classes; j++) p.setAtIndex(F, row + j, (float) (Math.exp(x.getAtIndex(F, row + j) - max) / sum));
            loss += Math.log(sum) - (x.getAtIndex(F, row + l.getAtIndex(I, r)) - max);
        }
        return (float) (loss / batch);
    }

    @Override public void backward(Tensor diffLogits, Tensor probs, Tensor labels) {
        Checks.tensor(op, "diffLogits", diffLogits, rows, DType.F32);
        Checks.tensor(op, "probs", probs, rows, DType.F32);
        MemorySegment l = checkLabels(labels);
        MemorySegment d = diffLogits.segment(), p = probs.segment();
        for (int r = 0; r < batch; r++) {
            long row = (long) r * classes;
            int label = l.getAtIndex(I, r);
            for (int j = 0; j < classes; j++) {
                d.setAtIndex(F, row + j, (float) ((p.getAtIndex(F, row + j) - (j == label ? 1.0 : 0.0)) / batch));
            }
        }
    }

    private MemorySegment checkLabels(Tensor labels) {
        Checks.tensor(op, "labels", labels, labelsShape, DType.S32);
        MemorySegment l = labels.segment();
        for (int r = 0; r < batch; r++) {
            int label = l.getAtIndex(I, r);
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException(op + ": label of row " + r + " is " + label
                        + ", expected a class in [0, " + classes + ")");
            }
        }
        return l;
    }

    @Override public void close() {}

    @Override public String toString() { return op; }
}

package dev.isthmus.engine.opencl;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Softmax with mean cross-entropy (softmax.cl), semantics as
 * {@code ReferenceSoftmaxCrossEntropyPlan}. The forward runs one work-group per row (probs and
 * the row's loss into a plan-owned scratch), then one work-group that reduces the mean and
 * finds the first label outside [0, K); the host reads those 8 bytes back, the only transfer.
 * The backward checks the labels the same way before it writes diffLogits, so both passes throw
 * {@link IllegalArgumentException} on a bad label, as the reference does.
 *
 * <pre>
 *   logits, probs, diffLogits (N, K)   labels (N) int32
 * </pre>
 */
final class OpenClSoftmaxCrossEntropyPlan extends OpenClPlan implements SoftmaxCrossEntropyPlan {
    private final int batch, classes;
    private final Shape rows, labelsShape;
    private final Cl.Buffer rowLoss, result;   // (N) floats; [mean loss bits, first bad row]
    private final MemorySegment hostResult = Arena.ofAuto().allocate(8, 8);   // guarded by backend.lock()
    private final Cl.Kernel forwardRows, forwardLoss, checkLabels, backward;

    OpenClSoftmaxCrossEntropyPlan(OpenClBackend backend, int batch, int classes) {
        super(backend, "opencl softmax cross-entropy(" + batch + "x" + classes + ")");
        this.batch = Checks.positive("batch", batch);
        this.classes = Checks.positive("classes", classes);
        rows = Shape.of(batch, classes);
        labelsShape = Shape.of(batch);
        try {
            synchronized (backend.lock()) {
                rowLoss = buffer(4L * batch);
                result = buffer(8);
                forwardRows = kernel("softmax", "softmax_rows").mem(2, rowLoss).i32(7, classes)
                        .groups(batch, 1, 1, OpenClBackend.GROUP, 1, 1);
                forwardLoss = kernel("softmax", "softmax_loss").mem(0, result).mem(1, rowLoss).i32(4, batch).i32(5, classes)
                        .groups(1, 1, 1, OpenClBackend.GROUP, 1, 1);
                checkLabels = kernel("softmax", "softmax_loss").mem(0, result).mem(1, null).i32(4, batch).i32(5, classes)
                        .groups(1, 1, 1, OpenClBackend.GROUP, 1, 1);
                backward = kernel("softmax", "softmax_backward").i32(6, batch).i32(7, classes)
                        .range((long) batch * classes, OpenClBackend.GROUP);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override public int batch() { return batch; }

    @Override public int classes() { return classes; }

    @Override public float forward(Tensor probs, Tensor logits, Tensor labels) {
        Checks.tensor(op, "probs", probs, rows, DType.F32);
        Checks.tensor(op, "logits", logits, rows, DType.F32);
        Checks.tensor(op, "labels", labels, labelsShape, DType.S32);
        checkOpen();
        float loss;
        int badRow;
        synchronized (backend.lock()) {
            backend.tensor(forwardRows, 0, op, "probs", probs);
            backend.tensor(forwardRows, 3, op, "logits", logits);
            backend.tensor(forwardRows, 5, op, "labels", labels);
            backend.queue().run(forwardRows);
            backend.tensor(forwardLoss, 2, op, "labels", labels);
            backend.queue().run(forwardLoss);
            backend.queue().read(result, 0, hostResult);
            loss = hostResult.get(ValueLayout.JAVA_FLOAT, 0);
            badRow = hostResult.get(ValueLayout.JAVA_INT, 4);
        }
        if (badRow >= 0) throw badLabel(labels, badRow);
        return loss;
    }

    @Override public void backward(Tensor diffLogits, Tensor probs, Tensor labels) {
        Checks.tensor(op, "diffLogits", diffLogits, rows, DType.F32);
        Checks.tensor(op, "probs", probs, rows, DType.F32);
        Checks.tensor(op, "labels", labels, labelsShape, DType.S32);
        checkOpen();
        int badRow;
        synchronized (backend.lock()) {
            backend.tensor(checkLabels, 2, op, "labels", labels);
            backend.queue().run(checkLabels);
            backend.queue().read(result, 0, hostResult);
            badRow = hostResult.get(ValueLayout.JAVA_INT, 4);
            if (badRow < 0) {
                backend.tensor(backward, 0, op, "diffLogits", diffLogits);
                backend.tensor(backward, 2, op, "probs", probs);
                backend.tensor(backward, 4, op, "labels", labels);
                backend.queue().run(backward);
            }
        }
        if (badRow >= 0) throw badLabel(labels, badRow);
    }

    private IllegalArgumentException badLabel(Tensor labels, int row) {
        int[] all = labels.toIntArray();
        return new IllegalArgumentException(op + ": label of row " + row + " is " + all[row]
                + ", expected a class in [0, " + classes + ")");
    }
}

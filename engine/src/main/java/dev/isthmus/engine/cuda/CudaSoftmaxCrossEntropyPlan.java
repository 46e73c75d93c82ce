package dev.isthmus.engine.cuda;

import dev.isthmus.bindings.cuda.cuda_h;
import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Softmax with mean cross-entropy (softmax.cu), semantics as
 * {@code ReferenceSoftmaxCrossEntropyPlan}. The forward runs one block per row (probs and the
 * row's loss into plan-owned scratch), then one block that reduces the mean and finds the first
 * label outside [0, K); the host reads those 8 bytes back, the only transfer. The backward checks
 * the labels the same way before it writes diffLogits, so both passes throw
 * {@link IllegalArgumentException} on a bad label, as the reference does. The twin of the opencl
 * backend's plan.
 *
 * <pre>
 *   logits, probs, diffLogits (N, K)   labels (N) int32
 * </pre>
 */
final class CudaSoftmaxCrossEntropyPlan extends CudaPlan implements SoftmaxCrossEntropyPlan {
    private final int batch, classes;
    private final Shape rows, labelsShape;
    private final long rowLoss, result;   // (N) floats; [mean loss bits, first bad row]
    private final MemorySegment hostResult = Arena.ofAuto().allocate(8, 8);   // guarded by backend.lock()
    private final Cu.Kernel forwardRows, forwardLoss, checkLabels, backward;

    CudaSoftmaxCrossEntropyPlan(CudaBackend backend, int batch, int classes) {
        super(backend, "cuda softmax cross-entropy(" + batch + "x" + classes + ")");
        this.batch = Checks.positive("batch", batch);
        this.classes = Checks.positive("classes", classes);
        rows = Shape.of(batch, classes);
        labelsShape = Shape.of(batch);
        try {
            rowLoss = buffer(4L * batch);
            result = buffer(8);
            forwardRows = kernel("softmax", "softmax_rows", 5).pointer(1, rowLoss).i32(4, classes)
                    .grid(batch, 1, 1, CudaBackend.GROUP, 1, 1);
            forwardLoss = kernel("softmax", "softmax_loss", 5).pointer(0, result).pointer(1, rowLoss).i32(3, batch).i32(4, classes)
                    .grid(1, 1, 1, CudaBackend.GROUP, 1, 1);
            checkLabels = kernel("softmax", "softmax_loss", 5).pointer(0, result).pointer(1, 0).i32(3, batch).i32(4, classes)
                    .grid(1, 1, 1, CudaBackend.GROUP, 1, 1);
            backward = kernel("softmax", "softmax_backward", 5).i32(3, batch).i32(4, classes)
                    .range((long) batch * classes, CudaBackend.GROUP);
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
        float loss;
        int badRow;
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(forwardRows, 0, op, "probs", probs);
            backend.tensor(forwardRows, 2, op, "logits", logits);
            backend.tensor(forwardRows, 3, op, "labels", labels);
            launch(forwardRows);
            backend.tensor(forwardLoss, 2, op, "labels", labels);
            launch(forwardLoss);
            readResult();
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
        int badRow;
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(checkLabels, 2, op, "labels", labels);
            launch(checkLabels);
            readResult();
            badRow = hostResult.get(ValueLayout.JAVA_INT, 4);
            if (badRow < 0) {
                backend.tensor(backward, 0, op, "diffLogits", diffLogits);
                backend.tensor(backward, 1, op, "probs", probs);
                backend.tensor(backward, 2, op, "labels", labels);
                launch(backward);
            }
        }
        if (badRow >= 0) throw badLabel(labels, badRow);
    }

    /** The 8 result bytes, after every launch before (a synchronous copy on the default stream). */
    private void readResult() {
        backend.bind();
        Cu.check(cuda_h.cuMemcpyDtoH_v2(hostResult, result, 8), "cuMemcpyDtoH_v2", op + " result");
    }

    private IllegalArgumentException badLabel(Tensor labels, int row) {
        int[] all = labels.toIntArray();
        return new IllegalArgumentException(op + ": label of row " + row + " is " + all[row]
                + ", expected a class in [0, " + classes + ")");
    }
}

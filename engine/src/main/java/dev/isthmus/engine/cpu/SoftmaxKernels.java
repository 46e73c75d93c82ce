package dev.isthmus.engine.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax with cross-entropy against int32 labels, mean over the batch (PyTorch's
 * {@code CrossEntropyLoss}, https://pytorch.org/docs/stable/generated/torch.nn.CrossEntropyLoss.html).
 *
 * <pre>
 *   logits (N, K)  probs (N, K)  labels (N) int32 in [0, K)  diffLogits (N, K)
 *   forward:  m = max_j x[n, j];  s = sum_j exp(x[n, j] - m);  p[n, j] = exp(x[n, j] - m) / s
 *             loss = mean_n (log s - (x[n, label] - m))
 *   backward: diffLogits[n, j] = (p[n, j] - [j == label]) * (1 / N)
 * </pre>
 */
public final class SoftmaxKernels {
    private SoftmaxKernels() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

    /** Throws naming the first row whose label is outside [0, classes). */
    public static void checkLabels(MemorySegment labels, int batch, int classes) {
        for (int n = 0; n < batch; n++) {
            int label = labels.getAtIndex(I, n);
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("softmax cross-entropy: label of row " + n + " is " + label
                        + ", expected a class in [0, " + classes + ")");
            }
        }
    }

    // ---- forward ----------------------------------------------------------------------------

    /** Writes probs and returns the mean loss; labels must have been checked. */
    public static float forward(MemorySegment probs, MemorySegment logits, MemorySegment labels, int batch, int classes) {
        return Simd.VECTOR ? forwardVector(probs, logits, labels, batch, classes)
                : forwardScalar(probs, logits, labels, batch, classes);
    }

    public static float forwardScalar(MemorySegment probs, MemorySegment logits, MemorySegment labels, int batch, int classes) {
        double loss = 0;
        for (int n = 0; n < batch; n++) {
            long row = (long) n * classes;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) max = Math.max(max, logits.getAtIndex(F, row + j));
            float sum = 0;
            for (int j = 0; j < classes; j++) {
                float e = (float) Math.exp(logits.getAtIndex(F, row + j) - max);
                probs.setAtIndex(F, row + j, e);
                sum += e;
            }
            float inv = 1f / sum;
            for (int j = 0; j < classes; j++) probs.setAtIndex(F, row + j, probs.getAtIndex(F, row + j) * inv);
            int label = labels.getAtIndex(I, n);
            loss += Math.log(sum) - (logits.getAtIndex(F, row + label) - max);
        }
        return (float) (loss / batch);
    }

    public static float forwardVector(MemorySegment probs, MemorySegment logits, MemorySegment labels, int batch, int classes) {
        assert probs.byteSize() >= 4L * batch * classes && logits.byteSize() >= 4L * batch * classes;
        int bound = S.loopBound(classes);
        double loss = 0;
        for (int n = 0; n < batch; n++) {
            long row = (long) n * classes * 4;   // byte offset of the row
            // 1. the row maximum
            FloatVector maxV = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            int j = 0;
            for (; j < bound; j += S.length()) {
                maxV = maxV.max(FloatVector.fromMemorySegment(S, logits, row + j * 4L, NATIVE));
            }
            float max = maxV.reduceLanes(VectorOperators.MAX);
            for (; j < classes; j++) max = Math.max(max, logits.get(F, row + j * 4L));
            // 2. exp(x - max) into probs, and its sum
            FloatVector sumV = FloatVector.zero(S);
            j = 0;
            for (; j < bound; j += S.length()) {
                FloatVector e = VectorMath.exp(FloatVector.fromMemorySegment(S, logits, row + j * 4L, NATIVE).sub(max));
                e.intoMemorySegment(probs, row + j * 4L, NATIVE);
                sumV = sumV.add(e);
            }
            float sum = Simd.sumLanes(sumV);   // a fixed order: repeated calls give the same bits
            for (; j < classes; j++) {
                float e = (float) Math.exp(logits.get(F, row + j * 4L) - max);
                probs.set(F, row + j * 4L, e);
                sum += e;
            }
            // 3. normalise
            float inv = 1f / sum;
            j = 0;
            for (; j < bound; j += S.length()) {
                FloatVector.fromMemorySegment(S, probs, row + j * 4L, NATIVE).mul(inv)
                        .intoMemorySegment(probs, row + j * 4L, NATIVE);
            }
            for (; j < classes; j++) probs.set(F, row + j * 4L, probs.get(F, row + j * 4L) * inv);
            int label = labels.getAtIndex(I, n);
            loss += Math.log(sum) - (logits.get(F, row + label * 4L) - max);
        }
        return (float) (loss / batch);
    }

    // ---- backward ---------------------------------------------------------------------------

    public static void backward(MemorySegment diffLogits, MemorySegment probs, MemorySegment labels, int batch, int classes) {
        if (Simd.VECTOR) backwardVector(diffLogits, probs, labels, batch, classes);
        else backwardScalar(diffLogits, probs, labels, batch, classes);
    }

    public static void backwardScalar(MemorySegment diffLogits, MemorySegment probs, MemorySegment labels, int batch, int classes) {
        float invN = 1f / batch;
        for (int n = 0; n < batch; n++) {
            long row = (long) n * classes;
            int label = labels.getAtIndex(I, n);
            for (int j = 0; j < classes; j++) {
                float onehot = j == label ? 1f : 0f;
                diffLogits.setAtIndex(F, row + j, (probs.getAtIndex(F, row + j) - onehot) * invN);
            }
        }
    }

    public static void backwardVector(MemorySegment diffLogits, MemorySegment probs, MemorySegment labels, int batch, int classes) {
        assert probs.byteSize() >= 4L * batch * classes && diffLogits.byteSize() >= 4L * batch * classes;
        float invN = 1f / batch;
        int bound = S.loopBound(classes);
        for (int n = 0; n < batch; n++) {
            long row = (long) n * classes * 4;
            int label = labels.getAtIndex(I, n);
            float pLabel = probs.get(F, row + label * 4L);   // read first: diffLogits may be probs
            int j = 0;
            for (; j < bound; j += S.length()) {
                FloatVector.fromMemorySegment(S, probs, row + j * 4L, NATIVE).mul(invN)
                        .intoMemorySegment(diffLogits, row + j * 4L, NATIVE);
            }
            for (; j < classes; j++) diffLogits.set(F, row + j * 4L, probs.get(F, row + j * 4L) * invN);
            diffLogits.set(F, row + label * 4L, (pLabel - 1f) * invN);
        }
    }
}

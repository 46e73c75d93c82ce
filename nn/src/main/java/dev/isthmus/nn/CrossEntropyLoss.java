package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;

/**
 * Softmax followed by the negative log-likelihood, averaged over the batch
 * (torch.nn.CrossEntropyLoss). Compiled like a layer; keeps the probabilities of the last
 * forward for metrics and for its backward, {@code (softmax - onehot) / N}.
 */
public final class CrossEntropyLoss implements AutoCloseable {
    private SoftmaxCrossEntropyPlan plan;
    private Tensor probs;       // (N, K)
    private Tensor diffLogits;  // (N, K)
    private Tensor labels;      // (N) int32, of the last forward

    public CrossEntropyLoss compile(Backend backend, int batch, int classes) {
        close();
        plan = backend.softmaxCrossEntropy(batch, classes);
        probs = backend.allocate(Shape.of(batch, classes), DType.F32);
        diffLogits = backend.allocate(Shape.of(batch, classes), DType.F32);
        return this;
    }

    /** Mean loss of {@code logits} (N, K) against {@code labels} (N) int32. */
    public float forward(Tensor logits, Tensor labels) {
        requireCompiled();
        this.labels = labels;
        return plan.forward(probs, logits, labels);
    }

    /** The gradient of the last forward's loss with respect to its logits. */
    public Tensor backward() {
        requireCompiled();
        if (labels == null) throw new IllegalStateException("backward() before forward()");
        plan.backward(diffLogits, probs, labels);
        return diffLogits;
    }

    /** Softmax probabilities of the last forward, (N, K). */
    public Tensor probabilities() { return probs; }

    private void requireCompiled() {
        if (plan == null) throw new IllegalStateException("CrossEntropyLoss is not compiled; call compile(backend, batch, classes)");
    }

    @Override public void close() {
        if (plan != null) {
            plan.close();
            probs.close();
            diffLogits.close();
        }
        plan = null;
        probs = diffLogits = labels = null;
    }
}

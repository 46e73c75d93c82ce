package dev.isthmus.engine;

/**
 * Softmax followed by the cross-entropy loss against integer class labels, as one op
 * (PyTorch's {@code CrossEntropyLoss} with mean reduction). The forward is the stable
 * log-softmax (subtract the row maximum); the backward is {@code (softmax - onehot) / N}.
 *
 * <pre>
 *   logits  (N, K)   probs (N, K)   labels (N) int32 in [0, K)
 * </pre>
 */
public interface SoftmaxCrossEntropyPlan extends AutoCloseable {
    int batch();

    int classes();

    /** Writes the probabilities and returns the mean loss over the batch. A label outside [0, K) throws. */
    float forward(Tensor probs, Tensor logits, Tensor labels);

    /** diffLogits = (probs - onehot(labels)) / N. */
    void backward(Tensor diffLogits, Tensor probs, Tensor labels);

    @Override void close();
}

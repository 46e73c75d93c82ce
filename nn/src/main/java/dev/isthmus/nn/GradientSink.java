package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Makes parameter gradients accumulate across backward passes (PyTorch's semantics)
 * although backends' backward-weights write rather than add. Right after
 * {@code zeroGrad} the gradients are known to be zero, so a layer writes straight into
 * them; on a second backward without zeroGrad it writes into scratch that is then added.
 * The scratch views are made at compile time: nothing is allocated per step.
 */
public final class GradientSink {
    private final Backend backend;
    private final Map<Tensor, Tensor> scratchFor = new IdentityHashMap<>();
    private boolean zero = true;

    GradientSink(Backend backend) {
        this.backend = backend;
    }

    void register(Tensor grad, Tensor scratchView) {
        scratchFor.put(grad, scratchView);
    }

    /** The tensor a backward pass should write the gradient of {@code grad} into. */
    public Tensor target(Tensor grad) {
        return zero ? grad : scratchFor.get(grad);
    }

    /** Completes the write begun by {@link #target}: adds the scratch into the gradient if it was used. */
    public void commit(Tensor grad, Tensor target) {
        if (target != grad) backend.axpy(1f, target, grad);
    }

    void markZero() { zero = true; }

    void markDirty() { zero = false; }
}

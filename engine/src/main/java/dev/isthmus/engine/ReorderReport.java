package dev.isthmus.engine;

/**
 * What a plan that converts layouts at its boundary says about it, for reports and tests: the
 * layouts its primitives chose and the reorders each pass runs. A tensor given in the primitive's
 * own layout skips its reorder, so these are the counts for tensors in the plan's boundary layouts
 * (how a compiled model calls it).
 */
public interface ReorderReport {
    /** One line per primitive: its implementation and, per argument, its layout ({@code x->y}: a reorder). */
    String layouts();

    /** Reorders one forward runs in the plan's propagation (the training forward of a training plan). */
    int reordersPerForward();

    /**
     * Reorders the backward passes of one training step run (0 for an inference plan); without
     * {@code inputGradient} (a model's first layer) only those computing parameter gradients.
     */
    int reordersPerBackward(boolean inputGradient);
}

package dev.isthmus.engine;

/**
 * What a plan is created for, as oneDNN's {@code prop_kind}: a training plan runs the forward
 * pass that keeps what backward needs (max pooling's workspace) and the backward passes; an
 * inference plan runs only the forward (oneDNN's {@code forward_inference}) and holds no backward
 * primitive, buffer or workspace. Backward calls on an inference plan throw.
 */
public enum Propagation {
    TRAINING, INFERENCE;

    public boolean training() { return this == TRAINING; }
}

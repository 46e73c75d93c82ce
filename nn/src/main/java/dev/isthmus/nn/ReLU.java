package dev.isthmus.nn;

import dev.isthmus.engine.EltwiseKind;

/** max(x, 0) (torch.nn.ReLU). */
public final class ReLU extends Activation {
    public ReLU() { super(EltwiseKind.RELU); }
}

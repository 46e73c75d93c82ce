package dev.isthmus.nn;

import dev.isthmus.engine.EltwiseKind;

/** tanh(x) (torch.nn.Tanh). */
public final class Tanh extends Activation {
    public Tanh() { super(EltwiseKind.TANH); }
}

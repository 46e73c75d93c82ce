package dev.isthmus.nn;

import dev.isthmus.engine.EltwiseKind;

/** 1 / (1 + exp(-x)) (torch.nn.Sigmoid). */
public final class Sigmoid extends Activation {
    public Sigmoid() { super(EltwiseKind.SIGMOID); }
}

package dev.isthmus.nn;

import dev.isthmus.engine.EltwiseKind;

/** LeCun's squashing function 1.7159 tanh(2x/3) (LeCun et al. 1998, appendix A). */
public final class ScaledTanh extends Activation {
    public ScaledTanh() { super(EltwiseKind.SCALED_TANH); }
}

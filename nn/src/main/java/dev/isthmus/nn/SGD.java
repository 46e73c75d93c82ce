package dev.isthmus.nn;

import dev.isthmus.engine.OptimizerSpec;

/** Stochastic gradient descent with momentum, dampening, weight decay and Nesterov (torch.optim.SGD). */
public final class SGD extends Optimizer {
    public SGD(Parameters params, float lr) { this(params, lr, 0f, 0f, false); }

    public SGD(Parameters params, float lr, float momentum, float weightDecay, boolean nesterov) {
        this(params, lr, momentum, 0f, weightDecay, nesterov);
    }

    public SGD(Parameters params, float lr, float momentum, float dampening, float weightDecay, boolean nesterov) {
        super(params, lr, new OptimizerSpec.Sgd(momentum, dampening, weightDecay, nesterov));
    }
}

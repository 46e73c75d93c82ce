package dev.isthmus.nn;

import dev.isthmus.engine.OptimizerSpec;

/** RMSProp (Tieleman and Hinton 2012) as torch.optim.RMSprop computes it (not centred). */
public final class RMSProp extends Optimizer {
    /** PyTorch's defaults: alpha 0.99, eps 1e-8, no weight decay, no momentum. */
    public RMSProp(Parameters params, float lr) { this(params, lr, 0.99f, 1e-8f, 0f, 0f); }

    public RMSProp(Parameters params, float lr, float alpha, float eps, float weightDecay, float momentum) {
        super(params, lr, new OptimizerSpec.RmsProp(alpha, eps, weightDecay, momentum));
    }
}

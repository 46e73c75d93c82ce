package dev.isthmus.nn;

import dev.isthmus.engine.OptimizerSpec;

/** Adam (Kingma and Ba 2015) as torch.optim.Adam computes it; {@code decoupled} gives AdamW. */
public final class Adam extends Optimizer {
    /** PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public Adam(Parameters params, float lr) { this(params, lr, 0.9f, 0.999f, 1e-8f, 0f, false); }

    public Adam(Parameters params, float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled) {
        super(params, lr, new OptimizerSpec.Adam(beta1, beta2, eps, weightDecay, decoupled));
    }
}

package dev.isthmus.engine;

/**
 * The update rules, with PyTorch's semantics and defaults (torch/optim/sgd.py, rmsprop.py,
 * adam.py) so that results can be compared line by line. The learning rate is not part of
 * the spec: schedules change it per step, so it is an argument of {@link OptimizerPlan#step}.
 */
public sealed interface OptimizerSpec {
    /** How many state vectors of the parameters' size the rule keeps (momentum buffers, moments). */
    int stateSlots();

    /**
     * SGD: g = grad + weightDecay p; buf = momentum buf + (1 - dampening) g (buf = g on the
     * first step); g = nesterov ? g + momentum buf : buf; p -= lr g.
     */
    record Sgd(float momentum, float dampening, float weightDecay, boolean nesterov) implements OptimizerSpec {
        public Sgd {
            Checks.inRange("momentum", momentum, 0f, 1f);
            Checks.inRange("dampening", dampening, 0f, 1.0000001f);
            Checks.finiteNonNegative("weight decay", weightDecay);
            if (nesterov && (momentum <= 0 || dampening != 0)) {
                throw new IllegalArgumentException("Nesterov momentum requires momentum > 0 and dampening 0, got momentum "
                        + momentum + ", dampening " + dampening);
            }
        }

        @Override public int stateSlots() { return momentum > 0 ? 1 : 0; }
    }

    /**
     * RMSProp: g = grad + weightDecay p; sq = alpha sq + (1 - alpha) g^2; d = g / (sqrt(sq) + eps);
     * with momentum: buf = momentum buf + d, p -= lr buf; else p -= lr d.
     */
    record RmsProp(float alpha, float eps, float weightDecay, float momentum) implements OptimizerSpec {
        public RmsProp {
            Checks.inRange("alpha", alpha, 0f, 1f);
            Checks.inRange("eps", eps, Float.MIN_VALUE, 1f);
            Checks.finiteNonNegative("weight decay", weightDecay);
            Checks.inRange("momentum", momentum, 0f, 1f);
        }

        @Override public int stateSlots() { return momentum > 0 ? 2 : 1; }
    }

    /**
     * Adam (Kingma and Ba 2015) as PyTorch computes it: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
     * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). Weight decay is added to the
     * gradient (Adam) or, when {@code decoupled}, applied as p *= 1 - lr weightDecay (AdamW).
     */
    record Adam(float beta1, float beta2, float eps, float weightDecay, boolean decoupled) implements OptimizerSpec {
        public Adam {
            Checks.inRange("beta1", beta1, 0f, 1f);
            Checks.inRange("beta2", beta2, 0f, 1f);
            Checks.inRange("eps", eps, Float.MIN_VALUE, 1f);
            Checks.finiteNonNegative("weight decay", weightDecay);
        }

        @Override public int stateSlots() { return 2; }
    }
}

package dev.isthmus.nn;

/**
 * How the learning rate changes between epochs. {@link #next} is called after every epoch
 * with that epoch's validation error and returns the rate for the next one.
 */
public interface LrSchedule {
    /** The learning rate for the epoch after {@code epoch} (1-based), given its validation error (NaN if none). */
    float next(int epoch, float current, double validationError);

    /** A short description for logs and metrics.json. */
    String describe();

    static LrSchedule constant() {
        return new LrSchedule() {
            @Override public float next(int epoch, float current, double validationError) { return current; }
            @Override public String describe() { return "constant"; }
        };
    }

    /** Multiplies the rate by {@code gamma} every {@code stepEpochs} epochs (torch.optim.lr_scheduler.StepLR). */
    static LrSchedule stepDecay(int stepEpochs, float gamma) {
        if (stepEpochs <= 0 || !(gamma > 0 && gamma <= 1)) {
            throw new IllegalArgumentException("step decay needs stepEpochs > 0 and gamma in (0, 1], got " + stepEpochs + ", " + gamma);
        }
        return new LrSchedule() {
            @Override public float next(int epoch, float current, double validationError) {
                return epoch % stepEpochs == 0 ? current * gamma : current;
            }
            @Override public String describe() { return "step decay x" + gamma + " every " + stepEpochs + " epochs"; }
        };
    }

    /**
     * Divides the rate by {@code 1/factor} when the validation error has not improved for
     * {@code patience} epochs (torch.optim.lr_scheduler.ReduceLROnPlateau; AlexNet's rule with factor 0.1).
     */
    static LrSchedule reduceOnPlateau(float factor, int patience, float minLr) {
        if (!(factor > 0 && factor < 1) || patience < 0) {
            throw new IllegalArgumentException("reduce-on-plateau needs factor in (0, 1) and patience >= 0, got " + factor + ", " + patience);
        }
        return new LrSchedule() {
            private double best = Double.POSITIVE_INFINITY;
            private int bad;

            @Override public float next(int epoch, float current, double validationError) {
                if (Double.isNaN(validationError)) return current;
                if (validationError < best) {
                    best = validationError;
                    bad = 0;
                    return current;
                }
                if (++bad > patience) {
                    bad = 0;
                    return Math.max(minLr, current * factor);
                }
                return current;
            }
            @Override public String describe() { return "reduce on plateau x" + factor + " after " + patience + " epochs"; }
        };
    }
}

package dev.isthmus.engine;

/**
 * Element-wise activations. Each one's derivative can be computed from its output
 * alone, so backward passes take {@code dst} (and forward may run in place).
 */
public enum EltwiseKind {
    /** max(x, 0). */
    RELU,
    /** tanh(x). */
    TANH,
    /** LeCun et al. 1998, appendix A: 1.7159 tanh(2x/3), so that f(1) = 1 and f(-1) = -1. */
    SCALED_TANH,
    /** 1 / (1 + exp(-x)). */
    SIGMOID;

    public static final float SCALED_TANH_A = 1.7159f;
    public static final float SCALED_TANH_S = 2f / 3f;

    /** f(x), the scalar definition every backend is checked against. */
    public float apply(float x) {
        return switch (this) {
            case RELU -> x > 0 ? x : 0f;
            case TANH -> (float) Math.tanh(x);
            case SCALED_TANH -> SCALED_TANH_A * (float) Math.tanh(SCALED_TANH_S * x);
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
        };
    }

    /** f'(x) written in terms of y = f(x). */
    public float derivativeFromOutput(float y) {
        return switch (this) {
            case RELU -> y > 0 ? 1f : 0f;
            case TANH -> 1f - y * y;
            case SCALED_TANH -> SCALED_TANH_S / SCALED_TANH_A * (SCALED_TANH_A * SCALED_TANH_A - y * y);
            case SIGMOID -> y * (1f - y);
        };
    }
}

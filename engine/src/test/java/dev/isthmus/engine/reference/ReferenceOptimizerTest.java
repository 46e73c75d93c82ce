package dev.isthmus.engine.reference;

import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TensorScope;

/**
 * Two steps of every rule on params [1, -2] with grads [0.5, 0.25] then [-1, 0.5], lr 0.1,
 * worked out from the formulas in {@link OptimizerSpec} (float hyperparameters, state kept as float).
 */
class ReferenceOptimizerTest {
    private static final float LR = 0.1f;
    private final ReferenceBackend backend = new ReferenceBackend();

    /** Runs two steps; returns {params after 1, state after 1, params after 2, state after 2}. */
    private float[][] twoSteps(OptimizerSpec spec) {
        try (TensorScope s = new TensorScope(); OptimizerPlan plan = backend.optimizer(spec, 2)) {
            assertEquals(Shape.of(Math.max(1, spec.stateSlots()), 2), plan.stateShape());
            Tensor params = s.of(new float[] {1, -2}, 2);
            Tensor state = s.zeros(plan.stateShape());
            plan.step(params, state, s.of(new float[] {0.5f, 0.25f}, 2), LR, 1);
            float[] p1 = params.toFloatArray(), s1 = state.toFloatArray();
            plan.step(params, state, s.of(new float[] {-1, 0.5f}, 2), LR, 2);
            return new float[][] {p1, s1, params.toFloatArray(), state.toFloatArray()};
        }
    }

    private static void expect(String what, float[][] got, float[] p1, float[] s1, float[] p2, float[] s2) {
        assertClose(what + " params after step 1", p1, got[0], 1e-6, 1e-6);
        if (s1 != null) assertClose(what + " state after step 1", s1, got[1], 1e-6, 1e-6);
        assertClose(what + " params after step 2", p2, got[2], 1e-6, 1e-6);
        if (s2 != null) assertClose(what + " state after step 2", s2, got[3], 1e-6, 1e-6);
    }

    // No momentum, wd 0.1: g = grad + 0.1 p.  Step 1: g = [0.6, 0.05] -> p = [0.94, -2.005].
    // Step 2: g = [-1 + 0.094, 0.5 - 0.2005] = [-0.906, 0.2995] -> p = [1.0306, -2.03495].
    @Test void sgd() {
        expect("sgd", twoSteps(new OptimizerSpec.Sgd(0, 0, 0.1f, false)),
                new float[] {0.94f, -2.005f}, null, new float[] {1.0306f, -2.03495f}, null);
    }

    // Momentum 0.9, dampening 0.1, wd 0.01. Step 1: g = [0.51, 0.23]; buf = g; p = [0.949, -2.023].
    // Step 2: g = [-1 + 0.00949, 0.5 - 0.02023] = [-0.99051, 0.47977];
    //   buf = 0.9 buf + 0.9 g = [0.459 - 0.891459, 0.207 + 0.431793] = [-0.432459, 0.638793];
    //   p = [0.949 + 0.0432459, -2.023 - 0.0638793] = [0.9922459, -2.0868793].
    @Test void sgdMomentumDampeningWeightDecay() {
        expect("sgd momentum", twoSteps(new OptimizerSpec.Sgd(0.9f, 0.1f, 0.01f, false)),
                new float[] {0.949f, -2.023f}, new float[] {0.51f, 0.23f},
                new float[] {0.9922459f, -2.0868793f}, new float[] {-0.432459f, 0.638793f});
    }

    // Nesterov, momentum 0.9. Step 1: buf = g = [0.5, 0.25]; step g + 0.9 buf = [0.95, 0.475]; p = [0.905, -2.0475].
    // Step 2: buf = 0.9 buf + g = [-0.55, 0.725]; step g + 0.9 buf = [-1.495, 1.1525]; p = [1.0545, -2.16275].
    @Test void sgdNesterov() {
        expect("sgd nesterov", twoSteps(new OptimizerSpec.Sgd(0.9f, 0, 0, true)),
                new float[] {0.905f, -2.0475f}, new float[] {0.5f, 0.25f},
                new float[] {1.0545f, -2.16275f}, new float[] {-0.55f, 0.725f});
    }

    // alpha 0.99, eps 1e-8. Step 1: sq = 0.01 g^2 = [0.0025, 0.000625]; d = g / (0.1 |g| + eps) = 10 sign(g);
    //   p = [1 - 1, -2 - 1] = [0 (to float rounding), -3].
    // Step 2: sq = 0.99 sq + 0.01 g^2 = [0.012475, 0.00311875]; d = g / sqrt(sq) = [-8.953230, 8.953230];
    //   p = [0.8953230, -3.8953230].
    @Test void rmsProp() {
        expect("rmsprop", twoSteps(new OptimizerSpec.RmsProp(0.99f, 1e-8f, 0, 0)),
                new float[] {0, -3}, new float[] {0.0025f, 0.000625f},
                new float[] {0.8953230f, -3.8953230f}, new float[] {0.012475f, 0.00311875f});
    }

    // alpha 0.9, momentum 0.5, wd 0.1. Step 1: g = [0.6, 0.05]; sq = 0.1 g^2 = [0.036, 0.00025];
    //   d = g / sqrt(sq) = sqrt(10) sign(g) = [3.1622777, 3.1622777] = buf; p = [0.6837722, -2.3162278].
    // Step 2: g = [-1 + 0.0683772, 0.5 - 0.2316228] = [-0.9316228, 0.2683772];
    //   sq = 0.9 sq + 0.1 g^2 = [0.1191921, 0.0074276]; d = g / sqrt(sq) = [-2.6984623, 3.1139938];
    //   buf = 0.5 buf + d = [-1.1173235, 4.6951327]; p = [0.7955046, -2.7857411] (state rounded as float on the way).
    @Test void rmsPropMomentumWeightDecay() {
        expect("rmsprop momentum", twoSteps(new OptimizerSpec.RmsProp(0.9f, 1e-8f, 0.1f, 0.5f)),
                new float[] {0.6837723f, -2.3162274f}, new float[] {0.036f, 0.00025f, 3.1622770f, 3.1622753f},
                new float[] {0.7955047f, -2.7857425f}, new float[] {0.1191921f, 0.0074276f, -1.1173235f, 4.6951499f});
    }

    // beta 0.9, 0.999, eps 1e-8. Step 1: m = 0.1 g, v = 0.001 g^2; m / (1 - 0.9) over sqrt(v / (1 - 0.999)) = sign(g):
    //   p = [0.9, -2.1].  Step 2: m = [0.045 - 0.1, 0.0225 + 0.05] = [-0.055, 0.0725];
    //   v = [0.00024975 + 0.001, 0.0000624375 + 0.00025] = [0.00124975, 0.0003124375];
    //   p -= 0.1 / 0.19 * m / (sqrt(v / 0.001999) ) = [0.9366103, -2.1965182].
    @Test void adam() {
        expect("adam", twoSteps(new OptimizerSpec.Adam(0.9f, 0.999f, 1e-8f, 0, false)),
                new float[] {0.9f, -2.1f}, new float[] {0.05f, 0.025f, 0.00025f, 0.0000625f},
                new float[] {0.9366103f, -2.1965182f}, new float[] {-0.055f, 0.0725f, 0.00124975f, 0.0003124375f});
    }

    // Adam with wd 0.1 added to the gradient. Step 1: g = [0.6, 0.05] -> p = [0.9, -2.1] (the first step is sign(g)).
    // Step 2: g = [-1 + 0.09, 0.5 - 0.21] = [-0.91, 0.29]; m = [0.054 - 0.091, 0.0045 + 0.029] = [-0.037, 0.0335];
    //   v = [0.00035964 + 0.0008281, 0.0000024975 + 0.0000841] = [0.00118774, 0.0000865975]; p = [0.9252635, -2.1847119].
    @Test void adamCoupledWeightDecay() {
        expect("adam wd", twoSteps(new OptimizerSpec.Adam(0.9f, 0.999f, 1e-8f, 0.1f, false)),
                new float[] {0.9f, -2.1f}, new float[] {0.06f, 0.005f, 0.00036f, 0.0000025f},
                new float[] {0.9252635f, -2.1847119f}, new float[] {-0.037f, 0.0335f, 0.00118774f, 0.0000865975f});
    }

    // AdamW, wd 0.1: p *= 1 - 0.01 before the Adam step. Step 1: p = [0.99 - 0.1, -1.98 - 0.1] = [0.89, -2.08].
    // Step 2: moments as plain Adam; p = [0.89 * 0.99 + 0.0366103, -2.08 * 0.99 - 0.0965182] = [0.9177103, -2.1557182].
    @Test void adamW() {
        expect("adamw", twoSteps(new OptimizerSpec.Adam(0.9f, 0.999f, 1e-8f, 0.1f, true)),
                new float[] {0.89f, -2.08f}, new float[] {0.05f, 0.025f, 0.00025f, 0.0000625f},
                new float[] {0.9177103f, -2.1557181f}, new float[] {-0.055f, 0.0725f, 0.00124975f, 0.0003124375f});
    }
}

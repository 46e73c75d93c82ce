package dev.isthmus.engine.reference;

import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.GradientCheck;
import dev.isthmus.engine.testing.TensorScope;
import dev.isthmus.engine.testing.TestTensors;

/** The reference LRN: hand-computed values (odd and even windows) and its backward against finite differences. */
class ReferenceLrnTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    /** size 3, alpha/size = 1, beta 1/2, k 1 over channels [1, 2, 3] at one position: windows [0,1], [0,2], [1,2]. */
    @Test void tinyCaseByHand() {
        LrnSpec spec = new LrnSpec(1, 3, 1, 1, 3, 3f, 0.5f, 1f);
        try (TensorScope s = new TensorScope(); LrnPlan plan = backend.lrn(spec)) {
            assertEquals(0, plan.workspaceBytes());
            Tensor src = s.of(new float[] {1, 2, 3}, 1, 3, 1, 1), dst = s.zeros(1, 3, 1, 1);
            plan.forwardTraining(dst, null, src);
            // s = 1 + [1 + 4, 1 + 4 + 9, 4 + 9] = [6, 15, 14]
            assertClose("forward", new float[] {(float) (1 / Math.sqrt(6)), (float) (2 / Math.sqrt(15)), (float) (3 / Math.sqrt(14))},
                    dst, 0, 1e-7);
            // diffDst = [1, 0, 0]: only dst(0) = x0 (1 + x0^2 + x1^2)^-1/2 matters;
            // d/dx0 = 6^-1/2 - x0^2 6^-3/2, d/dx1 = -x0 x1 6^-3/2, d/dx2 = 0
            Tensor diffSrc = s.zeros(1, 3, 1, 1);
            plan.backward(diffSrc, s.of(new float[] {1, 0, 0}, 1, 3, 1, 1), src, null);
            assertClose("backward", new float[] {(float) (Math.pow(6, -0.5) - Math.pow(6, -1.5)), (float) (-2 * Math.pow(6, -1.5)), 0},
                    diffSrc, 1e-8, 1e-7);
        }
    }

    /** size 2: window(c) = [c, c + 1], as PyTorch's and oneDNN's formula for c - (size-1)/2 .. c + size/2. */
    @Test void evenWindowReachesOneChannelAfter() {
        LrnSpec spec = new LrnSpec(1, 3, 1, 1, 2, 2f, 1f, 1f);
        try (TensorScope s = new TensorScope(); LrnPlan plan = backend.lrn(spec)) {
            Tensor src = s.of(new float[] {1, 2, 3}, 1, 3, 1, 1), dst = s.zeros(1, 3, 1, 1);
            plan.forwardInference(dst, src);
            assertClose("forward", new float[] {1f / 6, 2f / 14, 3f / 10}, dst, 0, 1e-7);
        }
    }

    static List<LrnSpec> specs() {
        List<LrnSpec> specs = new ArrayList<>(List.of(
                new LrnSpec(1, 1, 3, 3, 1, 1f, 0.75f, 1f),
                new LrnSpec(2, 3, 3, 2, 3, 1.5f, 0.75f, 1f),
                new LrnSpec(1, 7, 2, 3, 5, 5e-4f, 0.75f, 2f),      // AlexNet's constants
                new LrnSpec(1, 7, 2, 3, 5, 4f, 0.75f, 1f),         // the normalisation dominates
                new LrnSpec(2, 17, 2, 2, 5, 2f, 0.6f, 1.5f)));
        specs.addAll(LrnDropoutConformance.evenSpecs());
        return specs;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void backwardMatchesFiniteDifferences(LrnSpec spec) {
        try (TensorScope s = new TensorScope(); LrnPlan plan = backend.lrn(spec)) {
            Tensor src = s.uniform(1, -2, 2, spec.shape()), dst = s.zeros(spec.shape()), diffSrc = s.zeros(spec.shape());
            float[] r = TestTensors.uniform(3, Math.toIntExact(spec.shape().elements()), -1, 1);
            plan.backward(diffSrc, s.of(r, spec.shape()), src, null);
            GradientCheck.check(spec + " diffSrc", src, x -> {
                plan.forwardInference(dst, x);
                return GradientCheck.dot(dst, r);
            }, diffSrc.toFloatArray(), 1e-2, 1e-3, 1e-2);
        }
    }

    @Test void checksItsArguments() {
        LrnSpec spec = new LrnSpec(1, 3, 2, 2, 3, 1f, 0.75f, 1f);
        try (TensorScope s = new TensorScope(); LrnPlan plan = backend.lrn(spec)) {
            Tensor src = s.zeros(1, 3, 2, 2), wrong = s.zeros(1, 3, 2, 3);
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forwardInference(wrong, src));
            assertEquals("reference " + spec + ": dst has shape [1, 3, 2, 3] F32, expected [1, 3, 2, 2] F32", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plan.forwardTraining(src, src, src));
            assertTrue(e.getMessage().contains("workspace has type F32"), e.getMessage());
            plan.forwardTraining(s.zeros(1, 3, 2, 2), s.allocate(Shape.of(4), DType.U8), src);   // an unneeded U8 workspace is ignored
        }
        assertThrows(IllegalArgumentException.class, () -> new LrnSpec(1, 3, 2, 2, 3, 1f, 0.75f, 0f));
    }
}

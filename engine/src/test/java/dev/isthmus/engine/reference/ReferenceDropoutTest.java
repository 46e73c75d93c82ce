package dev.isthmus.engine.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.GradientCheck;
import dev.isthmus.engine.testing.TensorScope;
import dev.isthmus.engine.testing.TestTensors;

/** The reference dropout: the specification's mask and scale, a hand-checked case, finite differences, bad arguments. */
class ReferenceDropoutTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    static java.util.List<Object[]> cases() { return LrnDropoutConformance.dropoutCases(); }

    @ParameterizedTest(name = "n={0}, p={1}, seed={2}")
    @MethodSource("cases")
    void maskIsTheSpecification(int n, float p, long seed) {
        LrnDropoutConformance.dropoutMatchesSpecification(backend, n, p, seed);
    }

    @ParameterizedTest @ValueSource(floats = {0.1f, 0.5f, 0.9f})
    void keepsAboutOneMinusP(float p) {
        LrnDropoutConformance.keepsAboutOneMinusP(backend, p);
    }

    /** p = 1/2: survivors doubled, exactly; the keep bits of seed 5 written out by hand from DropoutPlan.keep. */
    @Test void smallCaseByHand() {
        try (TensorScope s = new TensorScope(); DropoutPlan plan = backend.dropout(8, 0.5f)) {
            Tensor src = s.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 8), dst = s.zeros(8), mask = s.allocate(Shape.of(8), DType.U8);
            plan.forwardTraining(dst, mask, src, 5);
            byte[] m = LrnDropoutConformance.bytes(mask);
            float[] expected = new float[8];
            for (int i = 0; i < 8; i++) {
                assertEquals(DropoutPlan.keep(5, i, 0.5f) ? 1 : 0, m[i], "mask[" + i + "]");
                expected[i] = m[i] == 1 ? 2 * (i + 1) : 0;
            }
            assertArrayEquals(expected, dst.toFloatArray());
        }
    }

    /** For a fixed mask dropout is linear: its backward is the gradient of dst . r. */
    @Test void backwardMatchesFiniteDifferences() {
        int n = 37;
        try (TensorScope s = new TensorScope(); DropoutPlan plan = backend.dropout(n, 0.3f)) {
            Tensor src = s.uniform(1, -1, 1, n), dst = s.zeros(n), mask = s.allocate(Shape.of(n), DType.U8), diffSrc = s.zeros(n);
            float[] r = TestTensors.uniform(2, n, -1, 1);
            plan.forwardTraining(dst, mask, src, 99);
            plan.backward(diffSrc, s.of(r, n), mask);
            GradientCheck.check("dropout diffSrc", src, x -> {
                plan.forwardTraining(dst, mask, x, 99);
                return GradientCheck.dot(dst, r);
            }, diffSrc.toFloatArray(), 1e-2, 1e-4, 1e-3);
        }
    }

    @Test void checksItsArguments() {
        assertThrows(IllegalArgumentException.class, () -> backend.dropout(10, 1f));
        assertThrows(IllegalArgumentException.class, () -> backend.dropout(10, -0.1f));
        assertThrows(IllegalArgumentException.class, () -> backend.dropout(0, 0.5f));
        try (TensorScope s = new TensorScope(); DropoutPlan plan = backend.dropout(4, 0.5f)) {
            Tensor x = s.zeros(4), shortMask = s.allocate(Shape.of(3), DType.U8);
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forwardTraining(x, shortMask, x, 1));
            assertEquals("reference dropout(4, p=0.5): mask has shape [3] U8 (3 bytes), expected 4 bytes U8", e.getMessage());
        }
    }
}

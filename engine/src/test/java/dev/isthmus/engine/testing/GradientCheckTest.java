package dev.isthmus.engine.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

import dev.isthmus.engine.Tensor;

/** The helpers themselves: a right gradient passes, a wrong one fails with values side by side, x is restored. */
class GradientCheckTest {
    // L(x) = sum x_i^3, dL/dx_i = 3 x_i^2
    @Test void acceptsTheRightGradientAndRejectsAWrongOne() {
        try (Tensor x = TestTensors.uniform(1, -1, 1, 5, 7)) {
            float[] before = x.toFloatArray();
            float[] right = new float[before.length], wrong = new float[before.length];
            for (int i = 0; i < before.length; i++) {
                right[i] = 3 * before[i] * before[i];
                wrong[i] = right[i] + (i == 17 ? 0.1f : 0);
            }
            GradientCheck.check("cubes", x, GradientCheckTest::cubes, right, 1e-2, 1e-3, 1e-3);
            var e = assertThrows(AssertionFailedError.class,
                    () -> GradientCheck.check("cubes", x, GradientCheckTest::cubes, wrong, 1e-2, 1e-3, 1e-3));
            assertTrue(e.getMessage().contains("1 of 35") && e.getMessage().contains("at [17]"), e.getMessage());
            assertArrayEquals(before, x.toFloatArray());
        }
    }

    @Test void closeAssertionShowsTheFirstDifferences() {
        var e = assertThrows(AssertionFailedError.class,
                () -> TensorAssert.assertClose("demo", new float[] {1, 2, 3}, new float[] {1, 2.5f, 3}, 1e-6, 1e-6));
        assertTrue(e.getMessage().contains("1 of 3") && e.getMessage().contains("max |diff| 0.5 at [1]"), e.getMessage());
    }

    private static double cubes(Tensor t) {
        double sum = 0;
        for (float v : t.toFloatArray()) sum += (double) v * v * v;
        return sum;
    }
}

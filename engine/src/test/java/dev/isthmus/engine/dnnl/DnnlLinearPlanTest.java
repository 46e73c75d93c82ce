package dev.isthmus.engine.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.Tensor;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** oneDNN inner product against naive loops. */
class DnnlLinearPlanTest {
    static DnnlBackend backend;

    @BeforeAll static void open() { backend = new DnnlBackend(); }

    @AfterAll static void close() { backend.close(); }

    static Stream<LinearSpec> specs() {
        return Stream.of(new LinearSpec(1, 1, 1, true), new LinearSpec(3, 7, 5, true), new LinearSpec(3, 120, 84, true),
                new LinearSpec(17, 84, 10, false), new LinearSpec(2, 1023, 15, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void matchesNaiveLoops(LinearSpec s) {
        Random r = new Random(s.hashCode());
        try (DnnlLinearPlan plan = backend.linear(s);
             Tensor src = Naive.tensor(r, s.srcShape().dims());
             Tensor weights = Naive.tensor(r, s.weightsShape().dims());
             Tensor bias = s.hasBias() ? Naive.tensor(r, s.outFeatures()) : null;
             Tensor dst = Tensor.allocate(s.dstShape(), DType.F32);
             Tensor diffDst = Naive.tensor(r, s.dstShape().dims());
             Tensor diffSrc = Tensor.allocate(s.srcShape(), DType.F32);
             Tensor diffWeights = Tensor.allocate(s.weightsShape(), DType.F32);
             Tensor diffBias = s.hasBias() ? Tensor.allocate(s.biasShape(), DType.F32) : null) {
            diffSrc.fill(7f);
            diffWeights.fill(7f);
            plan.forward(dst, src, weights, bias);
            plan.backwardData(diffSrc, diffDst, weights);
            plan.backwardWeights(diffWeights, diffBias, diffDst, src);
            Naive.assertClose(s + " forward", Naive.linearForward(s, src.toFloatArray(), weights.toFloatArray(),
                    bias == null ? null : bias.toFloatArray()), dst.toFloatArray(), 1e-5);
            Naive.assertClose(s + " backward-data", Naive.linearBackwardData(s, diffDst.toFloatArray(), weights.toFloatArray()),
                    diffSrc.toFloatArray(), 1e-5);
            float[] expectedBias = new float[s.outFeatures()];
            Naive.assertClose(s + " backward-weights", Naive.linearBackwardWeights(s, diffDst.toFloatArray(), src.toFloatArray(),
                    expectedBias), diffWeights.toFloatArray(), 1e-5);
            if (diffBias != null) Naive.assertClose(s + " diffBias", expectedBias, diffBias.toFloatArray(), 1e-5);
            assertEquals(0, plan.reorderCount(), plan.layouts());
        }
    }

    @Test
    void flattensAnImageAndChecksElementCounts() {
        LinearSpec s = new LinearSpec(2, 3 * 2 * 2, 4, false);
        Random r = new Random(5);
        try (DnnlLinearPlan plan = backend.linear(s);
             Tensor image = Naive.tensor(r, 2, 3, 2, 2);
             Tensor weights = Naive.tensor(r, 4, 12);
             Tensor dst = Tensor.zeros(2, 4);
             Tensor wrong = Tensor.zeros(2, 3, 2, 3)) {
            plan.forward(dst, image, weights, null);
            Naive.assertClose("flattened", Naive.linearForward(s, image.toFloatArray(), weights.toFloatArray(), null),
                    dst.toFloatArray(), 1e-5);
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forward(dst, wrong, weights, null));
            assertEquals(s + ": src has 36 F32 elements [2, 3, 2, 3], expected 24 F32", e.getMessage());
        }
    }
}

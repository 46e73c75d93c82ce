package dev.isthmus.engine.dnnl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** oneDNN convolution against naive loops at awkward sizes, from several threads, and its errors. */
class DnnlConv2dPlanTest {
    static DnnlBackend backend;

    @BeforeAll static void open() { backend = new DnnlBackend(); }

    @AfterAll static void close() { backend.close(); }

    static Conv2dSpec conv(int n, int ic, int h, int w, int oc, Window window, int groups, boolean bias) {
        return new Conv2dSpec(n, ic, h, w, oc, window, groups, bias);
    }

    static Stream<Conv2dSpec> specs() {
        return Stream.of(
                conv(1, 1, 7, 7, 3, Window.square(3, 1, 1), 1, true),
                conv(3, 3, 11, 13, 7, Window.square(5, 2, 2), 1, true),
                conv(3, 7, 9, 5, 3, Window.square(1, 1, 0), 1, false),
                conv(1, 3, 31, 31, 7, Window.square(11, 4, 2), 1, true),     // AlexNet conv1's geometry, small
                conv(3, 6, 8, 9, 4, Window.square(3, 1, 1), 2, true),        // two groups
                conv(1, 4, 13, 11, 6, Window.square(5, 2, 0), 2, false),
                conv(3, 1, 32, 32, 6, Window.square(5, 1, 0), 1, true),      // LeNet C1
                conv(3, 6, 14, 14, 16, Window.square(5, 1, 0), 1, true),     // LeNet C3
                conv(3, 16, 5, 5, 120, Window.square(5, 1, 0), 1, true),     // LeNet C5
                conv(1, 7, 10, 12, 3, new Window(3, 3, 1, 2, 1, 0, 2, 1, 1, 0), 1, true)); // asymmetric padding, dilation
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void matchesNaiveLoops(Conv2dSpec s) {
        Random r = new Random(s.hashCode());
        try (DnnlConv2dPlan plan = backend.conv2d(s);
             Tensor src = Naive.tensor(r, s.srcShape().dims());
             Tensor weights = Naive.tensor(r, s.weightsShape().dims());
             Tensor bias = s.hasBias() ? Naive.tensor(r, s.outChannels()) : null;
             Tensor dst = backend.allocate(s.dstShape(), dev.isthmus.engine.DType.F32);
             Tensor diffDst = Naive.tensor(r, s.dstShape().dims());
             Tensor diffSrc = backend.allocate(s.srcShape(), dev.isthmus.engine.DType.F32);
             Tensor diffWeights = backend.allocate(s.weightsShape(), dev.isthmus.engine.DType.F32);
             Tensor diffBias = s.hasBias() ? backend.allocate(s.biasShape(), dev.isthmus.engine.DType.F32) : null) {
            diffSrc.fill(7f);       // backward passes write, so garbage must be overwritten
            diffWeights.fill(7f);
            if (diffBias != null) diffBias.fill(7f);
            plan.forward(dst, src, weights, bias);
            plan.backwardData(diffSrc, diffDst, weights);
            plan.backwardWeights(diffWeights, diffBias, diffDst, src);

            float[] b = bias == null ? null : bias.toFloatArray();
            Naive.assertClose(s + " forward", Naive.convForward(s, src.toFloatArray(), weights.toFloatArray(), b), dst.toFloatArray(), 1e-5);
            Naive.assertClose(s + " backward-data", Naive.convBackwardData(s, diffDst.toFloatArray(), weights.toFloatArray()),
                    diffSrc.toFloatArray(), 1e-5);
            float[] expectedDiffBias = new float[s.outChannels()];
            Naive.assertClose(s + " backward-weights", Naive.convBackwardWeights(s, diffDst.toFloatArray(), src.toFloatArray(),
                    expectedDiffBias), diffWeights.toFloatArray(), 1e-5);
            if (diffBias != null) Naive.assertClose(s + " diffBias", expectedDiffBias, diffBias.toFloatArray(), 1e-5);
            assertEquals(plan.reordersPerStep(), plan.reorderCount(), plan.layouts());
        }
    }

    @Test
    void onePlanFromFourThreadsMatchesOneThread() throws Exception {
        Conv2dSpec s = conv(3, 6, 14, 14, 16, Window.square(5, 1, 0), 2, true);
        int threads = 4, repetitions = 40;
        try (DnnlConv2dPlan plan = backend.conv2d(s)) {
            List<float[][]> expected = new ArrayList<>();
            List<Tensor[]> inputs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Random r = new Random(100 + t);
                Tensor[] in = {Naive.tensor(r, s.srcShape().dims()), Naive.tensor(r, s.weightsShape().dims()),
                        Naive.tensor(r, s.outChannels()), Naive.tensor(r, s.dstShape().dims())};
                inputs.add(in);
                expected.add(runStep(plan, s, in));
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<float[][]>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    Tensor[] in = inputs.get(t);
                    results.add(pool.submit(() -> {
                        float[][] last = null;
                        for (int i = 0; i < repetitions; i++) last = runStep(plan, s, in);
                        return last;
                    }));
                }
                for (int t = 0; t < threads; t++) {
                    float[][] got = results.get(t).get();
                    for (int k = 0; k < got.length; k++) {
                        assertArrayEquals(expected.get(t)[k], got[k], "thread " + t + " output " + k);
                    }
                }
            } finally {
                pool.shutdown();
            }
            assertTrue(plan.contextCount() >= 1 && plan.contextCount() <= threads + 1, "contexts: " + plan.contextCount());
            for (Tensor[] in : inputs) for (Tensor t : in) t.close();
        }
    }

    /** forward, backward-data and backward-weights with fresh outputs; returns dst, diffSrc, diffWeights, diffBias. */
    private static float[][] runStep(DnnlConv2dPlan plan, Conv2dSpec s, Tensor[] in) {
        try (Tensor dst = Tensor.allocate(s.dstShape(), dev.isthmus.engine.DType.F32);
             Tensor diffSrc = Tensor.allocate(s.srcShape(), dev.isthmus.engine.DType.F32);
             Tensor diffWeights = Tensor.allocate(s.weightsShape(), dev.isthmus.engine.DType.F32);
             Tensor diffBias = Tensor.allocate(s.biasShape(), dev.isthmus.engine.DType.F32)) {
            plan.forward(dst, in[0], in[1], in[2]);
            plan.backwardData(diffSrc, in[3], in[1]);
            plan.backwardWeights(diffWeights, diffBias, in[3], in[0]);
            return new float[][] {dst.toFloatArray(), diffSrc.toFloatArray(), diffWeights.toFloatArray(), diffBias.toFloatArray()};
        }
    }

    @Test
    void wrongShapesNameTheArgument() {
        Conv2dSpec s = conv(2, 3, 8, 8, 4, Window.square(3, 1, 1), 1, true);
        try (DnnlConv2dPlan plan = backend.conv2d(s);
             Tensor src = Tensor.zeros(2, 4, 8, 8);
             Tensor weights = Tensor.zeros(4, 3, 3, 3);
             Tensor bias = Tensor.zeros(4);
             Tensor dst = Tensor.zeros(2, 4, 8, 8)) {
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forward(dst, src, weights, bias));
            assertEquals(s + ": src has shape [2, 4, 8, 8] F32, expected [2, 3, 8, 8] F32", e.getMessage());
            try (Tensor goodSrc = Tensor.zeros(2, 3, 8, 8)) {
                e = assertThrows(IllegalArgumentException.class, () -> plan.forward(dst, goodSrc, weights, null));
                assertEquals(s + ": bias is null but the convolution has a bias", e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> plan.backwardWeights(weights, bias, goodSrc, goodSrc));
                assertEquals(s + ": diffDst has shape [2, 3, 8, 8] F32, expected [2, 4, 8, 8] F32", e.getMessage());
            }
        }
        Conv2dSpec noBias = conv(1, 1, 5, 5, 1, Window.square(3, 1, 0), 1, false);
        try (DnnlConv2dPlan plan = backend.conv2d(noBias);
             Tensor src = Tensor.zeros(1, 1, 5, 5);
             Tensor weights = Tensor.zeros(1, 1, 3, 3);
             Tensor dst = Tensor.zeros(1, 1, 3, 3);
             Tensor bias = Tensor.zeros(1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forward(dst, src, weights, bias));
            assertEquals(noBias + ": bias [1] given but the convolution has no bias", e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> conv(1, 1, 4, 4, 1, Window.square(7, 1, 1), 1, true));
        assertEquals("kernel height 7 is larger than the padded input height 6 (4 + padding 1 + 1)", e.getMessage());
    }

    @Test
    void useAfterCloseThrows() {
        Conv2dSpec s = conv(1, 1, 5, 5, 2, Window.square(3, 1, 0), 1, false);
        DnnlConv2dPlan plan = backend.conv2d(s);
        try (Tensor src = Tensor.zeros(1, 1, 5, 5); Tensor weights = Tensor.zeros(2, 1, 3, 3); Tensor dst = Tensor.zeros(1, 2, 3, 3)) {
            plan.forward(dst, src, weights, null);
            plan.close();
            plan.close();   // idempotent
            var e = assertThrows(IllegalStateException.class, () -> plan.forward(dst, src, weights, null));
            assertEquals(s + " plan is closed", e.getMessage());
            assertThrows(IllegalStateException.class, plan::layouts);
            src.close();
            try (DnnlConv2dPlan other = backend.conv2d(s)) {
                e = assertThrows(IllegalStateException.class, () -> other.forward(dst, src, weights, null));
                assertEquals("tensor [1, 1, 5, 5] F32 is closed", e.getMessage());
            }
        }
    }

    @Test
    void reordersOnlyWhereTheLayoutDiffers() {
        // 1x1 convolution over 16 channels: whatever oneDNN picks, the counter must match the layouts it reports.
        Conv2dSpec s = conv(2, 16, 7, 7, 32, Window.square(1, 1, 0), 1, true);
        try (DnnlConv2dPlan plan = backend.conv2d(s);
             Tensor src = Tensor.zeros(2, 16, 7, 7); Tensor weights = Tensor.zeros(32, 16, 1, 1);
             Tensor bias = Tensor.zeros(32); Tensor dst = Tensor.zeros(2, 32, 7, 7)) {
            long before = backend.reorderCount();
            plan.forward(dst, src, weights, bias);
            plan.forward(dst, src, weights, bias);
            String layouts = plan.layouts();
            long arrows = layouts.lines().findFirst().orElseThrow().chars().filter(c -> c == '>').count();
            assertEquals(2 * arrows, plan.reorderCount(), layouts);
            assertEquals(2 * arrows, backend.reorderCount() - before, layouts);
        }
    }
}

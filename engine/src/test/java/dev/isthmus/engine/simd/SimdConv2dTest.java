package dev.isthmus.engine.simd;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.testing.TensorScope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Convolution forward, backward-data and backward-weights against the reference backend at odd sizes. */
class SimdConv2dTest {
    private static SimdBackend simd;
    private static ReferenceBackend reference;

    @BeforeAll static void open() {
        simd = new SimdBackend(2);
        reference = new ReferenceBackend();
    }

    @AfterAll static void close() {
        simd.close();
        reference.close();
    }

    static Window window(int k, int s, int pt, int pl, int pb, int pr, int d) {
        return new Window(k, k, s, s, pt, pl, pb, pr, d, d);
    }

    static List<Conv2dSpec> specs() {
        return List.of(
                new Conv2dSpec(1, 1, 7, 9, 6, window(5, 1, 0, 0, 0, 0, 0), 1, true),      // LeNet C1-like, tiny
                new Conv2dSpec(3, 1, 32, 32, 6, window(5, 1, 0, 0, 0, 0, 0), 1, true),    // LeNet C1
                new Conv2dSpec(3, 6, 14, 14, 16, window(5, 1, 0, 0, 0, 0, 0), 1, true),   // LeNet C3
                new Conv2dSpec(2, 2, 9, 41, 7, new Window(3, 5, 1, 1, 0, 0, 0, 0, 0, 0), 1, false),   // DirectConv: 7 channels, rows of 37
                new Conv2dSpec(3, 3, 15, 17, 7, window(3, 2, 1, 1, 1, 1, 0), 1, true),
                new Conv2dSpec(1, 7, 17, 15, 3, window(3, 1, 2, 1, 0, 2, 1), 1, false),   // asymmetric padding, dilation
                new Conv2dSpec(3, 6, 11, 13, 16, window(3, 2, 1, 2, 2, 1, 1), 2, true),   // groups, stride, dilation
                new Conv2dSpec(3, 7, 9, 8, 3, window(1, 1, 0, 0, 0, 0, 0), 1, true),      // 1x1: no im2col
                new Conv2dSpec(1, 6, 9, 8, 16, window(1, 1, 0, 0, 0, 0, 0), 2, false),    // 1x1 grouped
                new Conv2dSpec(3, 3, 8, 8, 7, window(1, 2, 1, 1, 1, 1, 0), 1, true),      // 1x1 with stride and padding
                new Conv2dSpec(3, 16, 5, 5, 120, window(5, 1, 0, 0, 0, 0, 0), 1, true),   // LeNet C5: 1x1 output
                new Conv2dSpec(7, 4, 4, 4, 6, window(4, 3, 0, 0, 0, 0, 0), 2, true),      // whole-input kernel, grouped
                new Conv2dSpec(1, 3, 5, 5, 7, window(5, 2, 0, 0, 0, 0, 0), 1, false),     // whole-input kernel, batch 1
                new Conv2dSpec(1, 3, 12, 10, 7, window(5, 2, 2, 2, 2, 2, 0), 1, true),
                new Conv2dSpec(3, 2, 6, 7, 4, window(3, 1, 1, 1, 1, 1, 0), 2, false));   // groups with 1 channel each
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void matchesReference(Conv2dSpec spec) {
        try (TensorScope scope = new TensorScope();
             Conv2dPlan plan = simd.conv2d(spec); Conv2dPlan oracle = reference.conv2d(spec)) {
            Tensor src = scope.uniform(1, -1, 1, spec.srcShape());
            Tensor weights = scope.uniform(2, -1, 1, spec.weightsShape());
            Tensor bias = spec.hasBias() ? scope.uniform(3, -1, 1, spec.biasShape()) : null;
            Tensor diffDst = scope.uniform(4, -1, 1, spec.dstShape());
            Tensor expected = scope.zeros(spec.dstShape()), actual = scope.uniform(5, -9, 9, spec.dstShape());
            oracle.forward(expected, src, weights, bias);
            plan.forward(actual, src, weights, bias);
            double tol = 1e-6 * spec.flops() / spec.dstShape().elements() + 1e-5;
            assertClose(spec + " forward", expected, actual, tol, 1e-5);

            Tensor expectedDs = scope.zeros(spec.srcShape()), actualDs = scope.uniform(6, -9, 9, spec.srcShape());
            oracle.backwardData(expectedDs, diffDst, weights);
            plan.backwardData(actualDs, diffDst, weights);
            assertClose(spec + " backward data", expectedDs, actualDs, tol * 4, 1e-5);

            Tensor expectedDw = scope.zeros(spec.weightsShape()), actualDw = scope.uniform(7, -9, 9, spec.weightsShape());
            Tensor expectedDb = spec.hasBias() ? scope.zeros(spec.biasShape()) : null;
            Tensor actualDb = spec.hasBias() ? scope.uniform(8, -9, 9, spec.biasShape()) : null;
            oracle.backwardWeights(expectedDw, expectedDb, diffDst, src);
            plan.backwardWeights(actualDw, actualDb, diffDst, src);
            double tolW = 1e-6 * spec.flops() / spec.weightsShape().elements() + 1e-5;
            assertClose(spec + " backward weights", expectedDw, actualDw, tolW, 1e-5);
            if (spec.hasBias()) assertClose(spec + " backward bias", expectedDb, actualDb, 1e-6 * spec.dstShape().elements() + 1e-5, 1e-5);
        }
    }

    @Test void samePlanOnFourThreadsEqualsOneThread() throws Exception {
        Conv2dSpec spec = new Conv2dSpec(5, 6, 14, 14, 16, window(5, 1, 1, 1, 1, 1, 0), 2, true);
        int callers = 4;
        try (TensorScope scope = new TensorScope(); Conv2dPlan plan = simd.conv2d(spec)) {
            Tensor weights = scope.uniform(2, -1, 1, spec.weightsShape()), bias = scope.uniform(3, -1, 1, spec.biasShape());
            Tensor[] src = new Tensor[callers], diffDst = new Tensor[callers];
            Tensor[][] single = new Tensor[callers][], concurrent = new Tensor[callers][];
            for (int i = 0; i < callers; i++) {
                src[i] = scope.uniform(10 + i, -1, 1, spec.srcShape());
                diffDst[i] = scope.uniform(20 + i, -1, 1, spec.dstShape());
                single[i] = outputs(scope, spec);
                concurrent[i] = outputs(scope, spec);
                runAll(plan, single[i], src[i], weights, bias, diffDst[i]);
            }
            ExecutorService callersPool = Executors.newFixedThreadPool(callers);
            try {
                Future<?>[] done = new Future<?>[callers];
                for (int i = 0; i < callers; i++) {
                    int c = i;
                    done[i] = callersPool.submit(() -> {
                        for (int rep = 0; rep < 20; rep++) runAll(plan, concurrent[c], src[c], weights, bias, diffDst[c]);
                    });
                }
                for (Future<?> f : done) f.get();
            } finally {
                callersPool.shutdown();
            }
            String[] names = {"forward", "backward data", "backward weights", "backward bias"};
            for (int i = 0; i < callers; i++)
                for (int j = 0; j < names.length; j++) assertBitwise("caller " + i + " " + names[j], single[i][j], concurrent[i][j]);
        }
    }

    private static Tensor[] outputs(TensorScope scope, Conv2dSpec spec) {
        return new Tensor[] {scope.zeros(spec.dstShape()), scope.zeros(spec.srcShape()), scope.zeros(spec.weightsShape()),
                scope.zeros(spec.biasShape())};
    }

    private static void runAll(Conv2dPlan plan, Tensor[] out, Tensor src, Tensor weights, Tensor bias, Tensor diffDst) {
        plan.forward(out[0], src, weights, bias);
        plan.backwardData(out[1], diffDst, weights);
        plan.backwardWeights(out[2], out[3], diffDst, src);
    }
}

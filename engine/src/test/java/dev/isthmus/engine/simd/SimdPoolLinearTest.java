package dev.isthmus.engine.simd;

import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.testing.TensorScope;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Pooling, linear and the delegated ops of the simd backend against the reference backend. */
class SimdPoolLinearTest {
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

    static List<Pool2dSpec> pools() {
        List<Pool2dSpec> all = new ArrayList<>();
        for (Pool2dSpec.Kind kind : Pool2dSpec.Kind.values()) {
            all.add(new Pool2dSpec(3, 6, 28, 28, Window.square(2, 2, 0), kind));                       // LeNet S2
            all.add(new Pool2dSpec(1, 7, 13, 15, Window.square(3, 2, 0), kind));                       // overlapping
            all.add(new Pool2dSpec(3, 3, 9, 11, new Window(3, 2, 2, 1, 1, 0, 2, 1, 0, 0), kind));      // asymmetric padding
            all.add(new Pool2dSpec(2, 5, 7, 7, Window.square(3, 1, 1), kind));
            all.add(new Pool2dSpec(64, 16, 10, 10, Window.square(2, 2, 0), kind));                     // big enough to split
        }
        return all;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pools")
    void poolingMatchesReference(Pool2dSpec spec) {
        try (TensorScope scope = new TensorScope(); Pool2dPlan plan = simd.pool2d(spec); Pool2dPlan oracle = reference.pool2d(spec)) {
            assertEquals(oracle.workspaceBytes(), plan.workspaceBytes());
            Tensor src = scope.distinct(1, 0.01f, spec.srcShape().dims());
            Tensor diffDst = scope.uniform(2, -1, 1, spec.dstShape());
            Tensor expected = scope.zeros(spec.dstShape()), actual = scope.zeros(spec.dstShape());
            Tensor inference = scope.zeros(spec.dstShape());
            Tensor expectedWs = null, actualWs = null;
            if (plan.workspaceBytes() > 0) {
                expectedWs = scope.allocate(Shape.of(Math.toIntExact(plan.workspaceBytes())), DType.U8);
                actualWs = scope.allocate(Shape.of(Math.toIntExact(plan.workspaceBytes())), DType.U8);
            }
            oracle.forwardTraining(expected, expectedWs, src);
            plan.forwardTraining(actual, actualWs, src);
            plan.forwardInference(inference, src);
            assertClose(spec + " forward", expected, actual, 1e-5, 1e-5);
            assertClose(spec + " inference", expected, inference, 1e-5, 1e-5);
            if (expectedWs != null) {
                assertArrayEquals(expectedWs.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        actualWs.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), spec + " workspace");
            }
            Tensor expectedDs = scope.zeros(spec.srcShape()), actualDs = scope.uniform(3, -9, 9, spec.srcShape());
            oracle.backward(expectedDs, diffDst, expectedWs);
            plan.backward(actualDs, diffDst, actualWs);
            assertClose(spec + " backward", expectedDs, actualDs, 1e-5, 1e-5);
        }
    }

    /**
     * LeNet's 2x2 subsampling has its own loops (windows that tile the input): they must give the
     * reference's bits exactly, with ties (values on a coarse grid, signed zeros among them) so
     * that "the first maximum wins" and the sign of a zero sum are both tested.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("tiledKinds")
    void tiledPoolingEqualsReferenceBitForBit(Pool2dSpec.Kind kind) {
        Pool2dSpec spec = new Pool2dSpec(5, 3, 12, 10, Window.square(2, 2, 0), kind);
        try (TensorScope scope = new TensorScope(); Pool2dPlan plan = simd.pool2d(spec); Pool2dPlan oracle = reference.pool2d(spec)) {
            float[] values = dev.isthmus.engine.testing.TestTensors.uniform(5, Math.toIntExact(spec.srcShape().elements()), -2, 2);
            for (int i = 0; i < values.length; i++) values[i] = i % 11 == 0 ? -0f : Math.round(values[i] * 2) / 2f;
            Tensor src = scope.of(values, spec.srcShape());
            float[] grads = dev.isthmus.engine.testing.TestTensors.uniform(6, Math.toIntExact(spec.dstShape().elements()), -1, 1);
            for (int i = 0; i < grads.length; i += 7) grads[i] = -0f;
            Tensor diffDst = scope.of(grads, spec.dstShape());
            Tensor expected = scope.zeros(spec.dstShape()), actual = scope.zeros(spec.dstShape());
            Tensor expectedWs = null, actualWs = null;
            if (plan.workspaceBytes() > 0) {
                expectedWs = scope.allocate(Shape.of(Math.toIntExact(plan.workspaceBytes())), DType.U8);
                actualWs = scope.allocate(Shape.of(Math.toIntExact(plan.workspaceBytes())), DType.U8);
            }
            oracle.forwardTraining(expected, expectedWs, src);
            plan.forwardTraining(actual, actualWs, src);
            dev.isthmus.engine.testing.TensorAssert.assertBitwise(spec + " forward", expected, actual);
            if (expectedWs != null) {
                assertArrayEquals(expectedWs.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        actualWs.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), spec + " workspace");
            }
            Tensor expectedDs = scope.zeros(spec.srcShape()), actualDs = scope.uniform(3, -9, 9, spec.srcShape());
            oracle.backward(expectedDs, diffDst, expectedWs);
            plan.backward(actualDs, diffDst, actualWs);
            dev.isthmus.engine.testing.TensorAssert.assertBitwise(spec + " backward", expectedDs, actualDs);
        }
    }

    static List<Pool2dSpec.Kind> tiledKinds() { return List.of(Pool2dSpec.Kind.values()); }

    @Test void poolingRejectsMissingWorkspace() {
        Pool2dSpec spec = new Pool2dSpec(1, 1, 4, 4, Window.square(2, 2, 0), Pool2dSpec.Kind.MAX);
        try (TensorScope scope = new TensorScope(); Pool2dPlan plan = simd.pool2d(spec)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> plan.forwardTraining(scope.zeros(1, 1, 2, 2), null, scope.zeros(1, 1, 4, 4)));
            assertTrue(e.getMessage().contains("workspace"), e.getMessage());
        }
    }

    static List<LinearSpec> linears() {
        return List.of(new LinearSpec(1, 1, 1, true), new LinearSpec(7, 15, 17, true), new LinearSpec(64, 400, 120, true),
                new LinearSpec(33, 100, 10, false), new LinearSpec(3, 1023, 7, true),
                // Gemv's path (at most 4 rows): output rows split over two tasks, blocks of four plus a tail
                new LinearSpec(1, 9216, 130, true), new LinearSpec(2, 33, 131, false), new LinearSpec(4, 17, 257, true),
                new LinearSpec(5, 33, 131, true));   // one row past Gemv: the GEMM again
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("linears")
    void linearMatchesReference(LinearSpec spec) {
        try (TensorScope scope = new TensorScope(); LinearPlan plan = simd.linear(spec); LinearPlan oracle = reference.linear(spec)) {
            int n = spec.batch(), in = spec.inFeatures();
            Tensor src = scope.uniform(1, -1, 1, n, 1, 1, in);   // a (N, C, H, W) activation read as (N, IC)
            Tensor weights = scope.uniform(2, -1, 1, spec.weightsShape());
            Tensor bias = spec.hasBias() ? scope.uniform(3, -1, 1, spec.biasShape()) : null;
            Tensor diffDst = scope.uniform(4, -1, 1, spec.dstShape());
            double tol = 2e-6 * Math.max(in, Math.max(n, spec.outFeatures())) + 1e-5;

            Tensor expected = scope.zeros(spec.dstShape()), actual = scope.uniform(5, -9, 9, spec.dstShape());
            oracle.forward(expected, src, weights, bias);
            plan.forward(actual, src, weights, bias);
            assertClose(spec + " forward", expected, actual, tol, 1e-5);

            Tensor expectedDs = scope.zeros(n, 1, 1, in), actualDs = scope.uniform(6, -9, 9, n, 1, 1, in);
            oracle.backwardData(expectedDs, diffDst, weights);
            plan.backwardData(actualDs, diffDst, weights);
            assertClose(spec + " backward data", expectedDs, actualDs, tol, 1e-5);

            Tensor expectedDw = scope.zeros(spec.weightsShape()), actualDw = scope.uniform(7, -9, 9, spec.weightsShape());
            Tensor expectedDb = spec.hasBias() ? scope.zeros(spec.biasShape()) : null;
            Tensor actualDb = spec.hasBias() ? scope.uniform(8, -9, 9, spec.biasShape()) : null;
            oracle.backwardWeights(expectedDw, expectedDb, diffDst, src);
            plan.backwardWeights(actualDw, actualDb, diffDst, src);
            assertClose(spec + " backward weights", expectedDw, actualDw, tol, 1e-5);
            if (spec.hasBias()) assertClose(spec + " backward bias", expectedDb, actualDb, tol, 1e-5);
        }
    }

    @Test void backendDelegatesAndDescribesItself() {
        assertEquals(BackendKind.SIMD, simd.kind());
        assertTrue(simd.device().isHost());
        assertTrue(simd.describe().contains("sgemm tile"), simd.describe());
        try (TensorScope scope = new TensorScope(); EltwisePlan relu = simd.eltwise(EltwiseKind.RELU, 17)) {
            Tensor x = scope.uniform(1, -1, 1, 17), y = scope.uniform(2, -1, 1, 17), yRef = scope.zeros(17);
            y.copyTo(yRef);
            simd.axpy(0.5f, x, y);
            reference.axpy(0.5f, x, yRef);
            assertClose("axpy", yRef, y, 1e-6, 1e-6);
            simd.fill(y, 3f);
            for (float v : y.toFloatArray()) assertEquals(3f, v);
            relu.forward(y, x);
            for (int i = 0; i < 17; i++) assertEquals(Math.max(0f, x.get(i)), y.get(i));
        }
    }

    @Test void closedBackendRefusesParallelWork() {
        SimdBackend b = new SimdBackend(2);
        LinearSpec spec = new LinearSpec(64, 512, 512, false);
        try (TensorScope scope = new TensorScope(); LinearPlan plan = b.linear(spec)) {
            b.close();
            assertThrows(IllegalStateException.class, () -> plan.forward(scope.zeros(spec.dstShape()), scope.zeros(spec.srcShape()),
                    scope.zeros(spec.weightsShape()), null));
        }
    }
}

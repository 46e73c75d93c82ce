package dev.isthmus.engine.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Device;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import java.lang.management.ManagementFactory;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The backend as a whole: what it says about itself, its cpu-package ops, errors, close, and allocation. */
class DnnlBackendTest {
    static DnnlBackend backend;

    @BeforeAll static void open() { backend = new DnnlBackend(); }

    @AfterAll static void close() { backend.close(); }

    @Test
    void describesItself() {
        String d = backend.describe();
        System.out.println("[dnnl] " + d);
        assertTrue(d.matches("oneDNN 3\\.13\\.\\d+ \\(git \\S+\\), ISA \\w+, OpenMP with \\d+ threads"), d);
        assertEquals(BackendKind.DNNL, backend.kind());
        assertEquals(Device.CPU, backend.device());
        try (Tensor t = backend.allocate(Shape.of(2, 3), DType.F32)) {
            assertEquals(0f, t.get(5));
        }
    }

    @ParameterizedTest
    @EnumSource(EltwiseKind.class)
    void eltwiseMatchesTheScalarDefinition(EltwiseKind kind) {
        int n = 1023;
        Random r = new Random(kind.ordinal());
        try (EltwisePlan plan = backend.eltwise(kind, n);
             Tensor src = Tensor.of(scaled(Naive.random(r, n), 3f), 3, 11, 31);
             Tensor dst = Tensor.zeros(n);
             Tensor diffDst = Tensor.of(Naive.random(r, n), n);
             Tensor diffSrc = Tensor.zeros(n)) {
            plan.forward(dst, src);
            plan.backward(diffSrc, diffDst, dst);
            float[] x = src.toFloatArray(), y = new float[n], dx = new float[n], dy = diffDst.toFloatArray();
            for (int i = 0; i < n; i++) y[i] = kind.apply(x[i]);
            float[] yGot = dst.toFloatArray();
            for (int i = 0; i < n; i++) dx[i] = dy[i] * kind.derivativeFromOutput(yGot[i]);
            Naive.assertClose(kind + " forward", y, yGot, 2e-6);
            Naive.assertClose(kind + " backward", dx, diffSrc.toFloatArray(), 2e-6);
        }
    }

    private static float[] scaled(float[] a, float s) {
        for (int i = 0; i < a.length; i++) a[i] *= s;
        return a;
    }

    @Test
    void softmaxCrossEntropyMatchesNaive() {
        int n = 3, k = 10;
        Random r = new Random(3);
        float[] logits = scaled(Naive.random(r, n * k), 4f);
        int[] labels = {0, 9, 4};
        try (SoftmaxCrossEntropyPlan plan = backend.softmaxCrossEntropy(n, k);
             Tensor l = Tensor.of(logits, n, k); Tensor y = Tensor.ofInts(labels);
             Tensor probs = Tensor.zeros(n, k); Tensor diff = Tensor.zeros(n, k)) {
            float loss = plan.forward(probs, l, y);
            plan.backward(diff, probs, y);
            float[] p = new float[n * k], d = new float[n * k];
            double expectedLoss = 0;
            for (int b = 0; b < n; b++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int c = 0; c < k; c++) max = Math.max(max, logits[b * k + c]);
                for (int c = 0; c < k; c++) sum += Math.exp(logits[b * k + c] - max);
                for (int c = 0; c < k; c++) {
                    p[b * k + c] = (float) (Math.exp(logits[b * k + c] - max) / sum);
                    d[b * k + c] = (p[b * k + c] - (c == labels[b] ? 1f : 0f)) / n;
                }
                expectedLoss -= (logits[b * k + labels[b]] - max - Math.log(sum)) / n;
            }
            assertEquals(expectedLoss, loss, 1e-5);
            Naive.assertClose("probs", p, probs.toFloatArray(), 1e-6);
            Naive.assertClose("diff logits", d, diff.toFloatArray(), 1e-6);
        }
    }

    @Test
    void sgdWithMomentumMatchesPyTorchsRule() {
        int n = 37;
        OptimizerSpec.Sgd sgd = new OptimizerSpec.Sgd(0.9f, 0f, 0.01f, false);
        Random r = new Random(9);
        float[] p = Naive.random(r, n), g1 = Naive.random(r, n), g2 = Naive.random(r, n);
        try (OptimizerPlan plan = backend.optimizer(sgd, n);
             Tensor params = Tensor.of(p.clone(), n);
             Tensor state = backend.allocate(plan.stateShape(), DType.F32);
             Tensor grads = Tensor.of(g1, n)) {
            plan.step(params, state, grads, 0.1f, 1);
            grads.copyFrom(g2);
            plan.step(params, state, grads, 0.1f, 2);
            float[] expected = p.clone(), buf = new float[n];
            for (int i = 0; i < n; i++) {
                float g = g1[i] + 0.01f * expected[i];
                buf[i] = g;
                expected[i] -= 0.1f * buf[i];
                g = g2[i] + 0.01f * expected[i];
                buf[i] = 0.9f * buf[i] + g;
                expected[i] -= 0.1f * buf[i];
            }
            Naive.assertClose("sgd params", expected, params.toFloatArray(), 1e-6);
        }
    }

    @Test
    void axpyAndFill() {
        try (Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5}, 5); Tensor y = Tensor.of(new float[] {1, 1, 1, 1, 1}, 5);
             Tensor z = Tensor.zeros(6)) {
            backend.axpy(2f, x, y);
            Naive.assertClose("axpy", new float[] {3, 5, 7, 9, 11}, y.toFloatArray(), 0);
            backend.fill(y, -0.5f);
            Naive.assertClose("fill", new float[] {-0.5f, -0.5f, -0.5f, -0.5f, -0.5f}, y.toFloatArray(), 0);
            var e = assertThrows(IllegalArgumentException.class, () -> backend.axpy(1f, x, z));
            assertEquals("axpy: x has 5 F32 elements [5], expected 6 F32", e.getMessage());
        }
    }

    @Test
    void aFailedCallNamesTheFunctionAndTheStatus() {
        var e = assertThrows(DnnlException.class,
                () -> Dnnl.MemoryDesc.of(new long[] {2, -3}, dnnl_h.dnnl_f32(), dnnl_h.dnnl_ab()));
        assertTrue(e.getMessage().startsWith("dnnl_memory_desc_create_with_tag returned dnnl_invalid_arguments: dims [2, -3]"),
                e.getMessage());
        assertEquals("dnnl_memory_desc_create_with_tag", e.function());
        assertEquals("dnnl_invalid_arguments", e.statusName());
        assertEquals("dnnl_unimplemented", Dnnl.statusName(dnnl_h.dnnl_unimplemented()));
        assertEquals("unknown dnnl_status_t 1234", Dnnl.statusName(1234));
    }

    @Test
    void closingTheBackendClosesItsPlans() {
        DnnlBackend b = new DnnlBackend();
        Conv2dSpec s = new Conv2dSpec(1, 1, 5, 5, 1, Window.square(3, 1, 0), 1, false);
        DnnlConv2dPlan plan = b.conv2d(s);
        b.close();
        b.close();
        assertThrows(IllegalStateException.class, plan::layouts);
        var e = assertThrows(IllegalStateException.class, () -> b.conv2d(s));
        assertEquals("the dnnl backend is closed", e.getMessage());
    }

    /** Steady state allocates nothing on the Java heap: checked with the JVM's per-thread allocation counter. */
    @Test
    void steadyStateAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Conv2dSpec s = new Conv2dSpec(1, 3, 6, 6, 4, Window.square(3, 1, 0), 1, true);
        Random r = new Random(1);
        try (DnnlConv2dPlan plan = backend.conv2d(s);
             Tensor src = Naive.tensor(r, s.srcShape().dims()); Tensor w = Naive.tensor(r, s.weightsShape().dims());
             Tensor bias = Naive.tensor(r, 4); Tensor dst = Tensor.allocate(s.dstShape(), DType.F32);
             Tensor diffSrc = Tensor.allocate(s.srcShape(), DType.F32); Tensor diffW = Tensor.allocate(s.weightsShape(), DType.F32);
             Tensor diffBias = Tensor.zeros(4)) {
            for (int i = 0; i < 3000; i++) {   // until the JIT has compiled the path
                plan.forward(dst, src, w, bias);
                plan.backwardData(diffSrc, dst, w);
                plan.backwardWeights(diffW, diffBias, dst, src);
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            int steps = 1000;
            for (int i = 0; i < steps; i++) {
                plan.forward(dst, src, w, bias);
                plan.backwardData(diffSrc, dst, w);
                plan.backwardWeights(diffW, diffBias, dst, src);
            }
            long perStep = (threads.getCurrentThreadAllocatedBytes() - before) / steps;
            System.out.println("[dnnl] heap bytes per conv step (fwd + bwd-data + bwd-weights): " + perStep);
            assertTrue(perStep < 16, "heap bytes allocated per step: " + perStep);
        }
    }
}

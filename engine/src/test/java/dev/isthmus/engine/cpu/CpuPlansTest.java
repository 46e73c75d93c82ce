package dev.isthmus.engine.cpu;

import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.testing.TensorScope;

/** The CPU plans (whichever path {@link Simd} picked) against the reference backend, and their argument checks. */
class CpuPlansTest {
    private final ReferenceBackend reference = new ReferenceBackend();

    @ParameterizedTest @EnumSource(EltwiseKind.class)
    void eltwiseMatchesReference(EltwiseKind kind) {
        int n = 1023;
        try (TensorScope s = new TensorScope();
             EltwisePlan cpu = new CpuEltwisePlan(kind, n); EltwisePlan ref = reference.eltwise(kind, n)) {
            Tensor src = s.uniform(5, -4, 4, 3, 341);
            Tensor expected = s.zeros(3, 341), actual = s.zeros(3, 341);
            ref.forward(expected, src);
            cpu.forward(actual, src);
            assertClose(kind + " forward", expected, actual, 1e-7, 1e-6);
            Tensor diffDst = s.uniform(6, -1, 1, 3, 341);
            Tensor de = s.zeros(3, 341), da = s.zeros(3, 341);
            ref.backward(de, diffDst, expected);
            cpu.backward(da, diffDst, expected);
            assertClose(kind + " backward", de, da, 0, 0);
            cpu.forward(src, src);   // in place
            assertClose(kind + " in place", actual, src, 0, 0);
        }
    }

    @Test void softmaxCrossEntropyMatchesReference() {
        int batch = 7, classes = 17;
        try (TensorScope s = new TensorScope();
             SoftmaxCrossEntropyPlan cpu = new CpuSoftmaxCrossEntropyPlan(batch, classes);
             SoftmaxCrossEntropyPlan ref = reference.softmaxCrossEntropy(batch, classes)) {
            Tensor logits = s.uniform(7, -6, 6, batch, classes), labels = s.labels(8, batch, classes);
            Tensor pe = s.zeros(batch, classes), pa = s.zeros(batch, classes);
            float le = ref.forward(pe, logits, labels), la = cpu.forward(pa, logits, labels);
            assertEquals(le, la, 1e-6 * Math.abs(le));
            assertClose("probs", pe, pa, 1e-8, 1e-6);
            Tensor de = s.zeros(batch, classes), da = s.zeros(batch, classes);
            ref.backward(de, pe, labels);
            cpu.backward(da, pe, labels);
            assertClose("diffLogits", de, da, 1e-8, 1e-6);
            cpu.backward(pa, pa, labels);   // in place over the probabilities
            assertClose("diffLogits in place", de, pa, 1e-8, 1e-6);

            var e = assertThrows(IllegalArgumentException.class, () -> cpu.forward(pa, logits, s.ints(0, 1, 2, 3, 17, 5, 6)));
            assertTrue(e.getMessage().contains("row 4 is 17"), e.getMessage());
        }
    }

    @Test void optimizersMatchReference() {
        int n = 1023;
        for (OptimizerSpec rule : VectorKernelsTest.RULES) {
            try (TensorScope s = new TensorScope();
                 OptimizerPlan cpu = new CpuOptimizerPlan(rule, n); OptimizerPlan ref = reference.optimizer(rule, n)) {
                assertEquals(ref.stateShape(), cpu.stateShape());
                Tensor pe = s.uniform(9, -1, 1, n), pa = s.uniform(9, -1, 1, 31, 33);   // params may have any shape
                Tensor se = s.zeros(ref.stateShape()), sa = s.zeros(cpu.stateShape());
                for (int step = 1; step <= 3; step++) {
                    Tensor grads = s.uniform(10 + step, -1, 1, n);
                    ref.step(pe, se, grads, 0.01f, step);
                    cpu.step(pa, sa, grads, 0.01f, step);
                    assertClose(rule + " params step " + step, pe.toFloatArray(), pa.toFloatArray(), 1e-6, 1e-5);
                    assertClose(rule + " state step " + step, se.toFloatArray(), sa.toFloatArray(), 1e-7, 1e-5);
                }
            }
        }
    }

    @Test void argumentsAreChecked() {
        try (TensorScope s = new TensorScope();
             EltwisePlan eltwise = new CpuEltwisePlan(EltwiseKind.TANH, 6);
             OptimizerPlan adam = new CpuOptimizerPlan(new OptimizerSpec.Adam(0.9f, 0.999f, 1e-8f, 0, false), 6)) {
            var e = assertThrows(IllegalArgumentException.class, () -> eltwise.forward(s.zeros(6), s.zeros(7)));
            assertTrue(e.getMessage().contains("src has 7 F32 elements [7], expected 6 F32"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> adam.step(s.zeros(6), s.zeros(1, 6), s.zeros(6), 0.1f, 1));
            assertTrue(e.getMessage().contains("state has shape [1, 6] F32, expected [2, 6] F32"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> adam.step(s.zeros(6), s.zeros(2, 6), s.zeros(6), 0.1f, 0));
            Tensor closed = s.zeros(6);
            closed.close();
            assertThrows(IllegalStateException.class, () -> eltwise.forward(s.zeros(6), closed));
        }
    }
}

package dev.isthmus.engine.reference;

import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.GradientCheck;
import dev.isthmus.engine.testing.TensorScope;
import dev.isthmus.engine.testing.TestTensors;

/** Eltwise, linear, softmax cross-entropy, axpy and fill of the reference backend. */
class ReferenceDenseOpsTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    // ---- eltwise ----

    // tanh(1) = 0.76159416; LeCun's 1.7159 tanh(2/3) = 1.0000 (by design f(1) ~ 1); sigmoid(0) = 0.5, sigmoid(2) = 0.88079708
    @Test void eltwiseByHand() {
        assertEquals(0.76159416f, EltwiseKind.TANH.apply(1f), 1e-7f);
        assertEquals(1.0f, EltwiseKind.SCALED_TANH.apply(1f), 2e-4f);
        assertEquals(0.88079708f, EltwiseKind.SIGMOID.apply(2f), 1e-7f);
        try (TensorScope s = new TensorScope(); EltwisePlan relu = backend.eltwise(EltwiseKind.RELU, 4)) {
            Tensor t = s.of(new float[] {-2, -0f, 0.5f, 3}, 4);
            relu.forward(t, t);   // in place
            assertClose("relu", new float[] {0, 0, 0.5f, 3}, t, 0, 0);
            Tensor diff = s.of(new float[] {1, 2, 3, 4}, 2, 2);   // any shape with 4 elements
            relu.backward(diff, diff, t);
            assertClose("relu backward", new float[] {0, 0, 3, 4}, diff, 0, 0);
        }
    }

    @ParameterizedTest @EnumSource(EltwiseKind.class)
    void eltwiseBackwardMatchesFiniteDifferences(EltwiseKind kind) {
        int n = 33;
        try (TensorScope s = new TensorScope(); EltwisePlan plan = backend.eltwise(kind, n)) {
            Tensor src = s.distinct(31, 0.12f, n);   // within +-2, at least 0.06 from ReLU's kink
            Tensor dst = s.zeros(n), diffSrc = s.zeros(n);
            float[] r = TestTensors.uniform(32, n, -1, 1);
            plan.forward(dst, src);
            plan.backward(diffSrc, s.of(r, n), dst);
            GradientCheck.check(kind + " backward", src, x -> { plan.forward(dst, x); return GradientCheck.dot(dst, r); },
                    diffSrc.toFloatArray(), 1e-2, 1e-4, 2e-3);
        }
    }

    // ---- linear ----

    // src (1, 2) = [1, 2]; weights (2, 2) = [[1, -1], [0.5, 2]]; bias [0.25, -1]:
    //   dst = [1 - 2 + 0.25, 0.5 + 4 - 1] = [-0.75, 3.5]
    @Test void linearByHand() {
        try (TensorScope s = new TensorScope(); LinearPlan plan = backend.linear(new LinearSpec(1, 2, 2, true))) {
            Tensor dst = s.zeros(1, 2);
            plan.forward(dst, s.of(new float[] {1, 2}, 1, 2), s.of(new float[] {1, -1, 0.5f, 2}, 2, 2), s.of(new float[] {0.25f, -1}, 2));
            assertClose("linear", new float[] {-0.75f, 3.5f}, dst, 0, 0);
        }
    }

    @Test void linearBackwardMatchesFiniteDifferences() {
        LinearSpec spec = new LinearSpec(3, 17, 7, true);
        try (TensorScope s = new TensorScope(); LinearPlan plan = backend.linear(spec)) {
            Tensor src = s.uniform(41, -1, 1, 3, 17, 1, 1);   // a 4-D activation read as (N, IC)
            Tensor weights = s.uniform(42, -1, 1, spec.weightsShape());
            Tensor bias = s.uniform(43, -1, 1, spec.biasShape());
            Tensor dst = s.zeros(spec.dstShape());
            float[] r = TestTensors.uniform(44, 21, -1, 1);
            Tensor diffDst = s.of(r, spec.dstShape());
            Tensor diffSrc = s.zeros(3, 17, 1, 1), diffWeights = s.zeros(spec.weightsShape()), diffBias = s.zeros(spec.biasShape());
            plan.backwardData(diffSrc, diffDst, weights);
            plan.backwardWeights(diffWeights, diffBias, diffDst, src);
            GradientCheck.check("linear diffSrc", src, x -> { plan.forward(dst, x, weights, bias); return GradientCheck.dot(dst, r); },
                    diffSrc.toFloatArray(), 1e-2, 1e-4, 1e-3);
            GradientCheck.check("linear diffWeights", weights, w -> { plan.forward(dst, src, w, bias); return GradientCheck.dot(dst, r); },
                    diffWeights.toFloatArray(), 1e-2, 1e-4, 1e-3);
            GradientCheck.check("linear diffBias", bias, b -> { plan.forward(dst, src, weights, b); return GradientCheck.dot(dst, r); },
                    diffBias.toFloatArray(), 1e-2, 1e-4, 1e-3);
        }
    }

    // ---- softmax cross-entropy ----

    // Row 0: logits [1, 2, 3], label 2: p = [e^-2, e^-1, 1] / (1 + e^-1 + e^-2) = [0.09003057, 0.24472847, 0.66524096],
    //        loss -log 0.66524096 = 0.40760596.   Row 1: logits [0, 0, 0], label 0: p = 1/3, loss log 3 = 1.09861229.
    // Mean loss 0.75310913; diffLogits = (p - onehot) / 2.
    @Test void softmaxCrossEntropyByHand() {
        try (TensorScope s = new TensorScope(); SoftmaxCrossEntropyPlan plan = backend.softmaxCrossEntropy(2, 3)) {
            Tensor probs = s.zeros(2, 3), labels = s.ints(2, 0), diff = s.zeros(2, 3);
            float loss = plan.forward(probs, s.of(new float[] {1, 2, 3, 0, 0, 0}, 2, 3), labels);
            assertEquals(0.75310913f, loss, 1e-6f);
            float third = 1f / 3;
            assertClose("probs", new float[] {0.09003057f, 0.24472847f, 0.66524096f, third, third, third}, probs, 1e-7, 1e-6);
            plan.backward(diff, probs, labels);
            assertClose("diffLogits", new float[] {0.04501529f, 0.12236424f, -0.16737952f, (third - 1) / 2, third / 2, third / 2},
                    diff, 1e-7, 1e-6);
        }
    }

    @Test void softmaxIsStableForHugeLogits() {
        try (TensorScope s = new TensorScope(); SoftmaxCrossEntropyPlan plan = backend.softmaxCrossEntropy(1, 2)) {
            Tensor probs = s.zeros(1, 2);
            float loss = plan.forward(probs, s.of(new float[] {1000, 0}, 1, 2), s.ints(0));
            assertEquals(0f, loss, 1e-7f);
            assertClose("probs", new float[] {1, 0}, probs, 0, 0);
        }
    }

    @Test void softmaxCrossEntropyMatchesFiniteDifferences() {
        int batch = 7, classes = 17;
        try (TensorScope s = new TensorScope(); SoftmaxCrossEntropyPlan plan = backend.softmaxCrossEntropy(batch, classes)) {
            Tensor logits = s.uniform(51, -3, 3, batch, classes);
            Tensor labels = s.labels(52, batch, classes);
            Tensor probs = s.zeros(batch, classes), diff = s.zeros(batch, classes);
            plan.forward(probs, logits, labels);
            plan.backward(diff, probs, labels);
            GradientCheck.check("softmax cross-entropy", logits, x -> plan.forward(probs, x, labels),
                    diff.toFloatArray(), 1e-2, 1e-5, 2e-3);
        }
    }

    @Test void labelOutOfRangeNamesTheRowAndValue() {
        try (TensorScope s = new TensorScope(); SoftmaxCrossEntropyPlan plan = backend.softmaxCrossEntropy(3, 4)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> plan.forward(s.zeros(3, 4), s.zeros(3, 4), s.ints(0, 3, 4)));
            assertTrue(e.getMessage().contains("row 2 is 4"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plan.backward(s.zeros(3, 4), s.zeros(3, 4), s.ints(-1, 0, 0)));
            assertTrue(e.getMessage().contains("row 0 is -1"), e.getMessage());
        }
    }

    // ---- axpy, fill ----

    @Test void axpyAndFill() {
        try (TensorScope s = new TensorScope()) {
            Tensor y = s.of(new float[] {1, 2, 3}, 3);
            backend.axpy(-2, s.of(new float[] {0.5f, 1, -1}, 1, 3), y);   // shapes may differ, counts may not
            assertClose("axpy", new float[] {0, 0, 5}, y, 0, 0);
            backend.fill(y, 7);
            assertClose("fill", new float[] {7, 7, 7}, y, 0, 0);
            assertThrows(IllegalArgumentException.class, () -> backend.axpy(1, s.zeros(4), y));
        }
    }
}

package dev.isthmus.engine.cpu;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.params.provider.MethodSource;

import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TensorScope;
import dev.isthmus.engine.testing.TestTensors;

/**
 * Every Vector API kernel against its scalar twin at sizes that leave every possible tail
 * (1, 7, 15, 17, 33, 1023 elements). The scalar twins are what runs with
 * {@code -Disthmus.simd.lanes=0}; calling both directly tests both paths in one JVM.
 * Bitwise where the kernel performs the same float operations; within 1e-6 relative where
 * it uses the Vector API's TANH/EXP or sums in another order.
 */
class VectorKernelsTest {
    static final int[] SIZES = TestTensors.AWKWARD_SIZES;

    static List<Arguments> kindsAndSizes() {
        List<Arguments> list = new ArrayList<>();
        for (EltwiseKind kind : EltwiseKind.values()) for (int n : SIZES) list.add(Arguments.of(kind, n));
        return list;
    }

    @ParameterizedTest @MethodSource("kindsAndSizes")
    void eltwiseForwardAndBackward(EltwiseKind kind, int n) {
        try (TensorScope s = new TensorScope()) {
            Tensor src = s.uniform(n, -4, 4, n);
            Tensor vector = s.zeros(n), scalar = s.zeros(n);
            EltwiseKernels.forwardVector(kind, vector.segment(), src.segment(), n);
            EltwiseKernels.forwardScalar(kind, scalar.segment(), src.segment(), n);
            if (kind == EltwiseKind.RELU) assertBitwise(kind + " forward n=" + n, scalar, vector);
            else assertClose(kind + " forward n=" + n, scalar, vector, 1e-7, 1e-6);

            Tensor diffDst = s.uniform(n + 1000, -1, 1, n);
            Tensor dv = s.zeros(n), ds = s.zeros(n);
            EltwiseKernels.backwardVector(kind, dv.segment(), diffDst.segment(), scalar.segment(), n);
            EltwiseKernels.backwardScalar(kind, ds.segment(), diffDst.segment(), scalar.segment(), n);
            assertBitwise(kind + " backward n=" + n, ds, dv);
        }
    }

    @ParameterizedTest @FieldSource("SIZES")
    void softmaxCrossEntropy(int classes) {
        int batch = 3;
        try (TensorScope s = new TensorScope()) {
            Tensor logits = s.uniform(classes, -5, 5, batch, classes);
            Tensor labels = s.labels(classes + 1, batch, classes);
            Tensor pv = s.zeros(batch, classes), ps = s.zeros(batch, classes);
            float lossV = SoftmaxKernels.forwardVector(pv.segment(), logits.segment(), labels.segment(), batch, classes);
            float lossS = SoftmaxKernels.forwardScalar(ps.segment(), logits.segment(), labels.segment(), batch, classes);
            assertClose("softmax probs K=" + classes, ps, pv, 1e-9, 1e-6);
            assertClose("softmax loss K=" + classes, new float[] {lossS}, new float[] {lossV}, 1e-7, 1e-6);

            Tensor dv = s.zeros(batch, classes), ds = s.zeros(batch, classes);
            SoftmaxKernels.backwardVector(dv.segment(), ps.segment(), labels.segment(), batch, classes);
            SoftmaxKernels.backwardScalar(ds.segment(), ps.segment(), labels.segment(), batch, classes);
            assertBitwise("softmax backward K=" + classes, ds, dv);
        }
    }

    static final List<OptimizerSpec> RULES = List.of(
            new OptimizerSpec.Sgd(0, 0, 0, false),
            new OptimizerSpec.Sgd(0.9f, 0.1f, 1e-3f, false),
            new OptimizerSpec.Sgd(0.9f, 0, 5e-4f, true),
            new OptimizerSpec.RmsProp(0.99f, 1e-8f, 0, 0),
            new OptimizerSpec.RmsProp(0.9f, 1e-6f, 1e-2f, 0.5f),
            new OptimizerSpec.Adam(0.9f, 0.999f, 1e-8f, 0, false),
            new OptimizerSpec.Adam(0.9f, 0.999f, 1e-8f, 1e-2f, false),
            new OptimizerSpec.Adam(0.8f, 0.99f, 1e-6f, 1e-2f, true));

    static List<Arguments> rulesAndSizes() {
        List<Arguments> list = new ArrayList<>();
        for (OptimizerSpec rule : RULES) for (int n : SIZES) list.add(Arguments.of(rule, n));
        return list;
    }

    /** Three steps (the first one is special for SGD's buffer and Adam's bias correction), params and state bitwise. */
    @ParameterizedTest @MethodSource("rulesAndSizes")
    void optimizerSteps(OptimizerSpec rule, int n) {
        int slots = Math.max(1, rule.stateSlots());
        try (TensorScope s = new TensorScope()) {
            Tensor pv = s.uniform(n, -1, 1, n), ps = s.uniform(n, -1, 1, n);
            Tensor sv = s.zeros(slots, n), ss = s.zeros(slots, n);
            for (int step = 1; step <= 3; step++) {
                Tensor grads = s.uniform(100L * step + n, -1, 1, n);
                float lr = 0.01f * step;
                switch (rule) {
                    case OptimizerSpec.Sgd r -> {
                        OptimizerKernels.sgdVector(pv.segment(), grads.segment(), sv.segment(), n, lr,
                                r.momentum(), r.dampening(), r.weightDecay(), r.nesterov(), step == 1);
                        OptimizerKernels.sgdScalar(ps.segment(), grads.segment(), ss.segment(), n, lr,
                                r.momentum(), r.dampening(), r.weightDecay(), r.nesterov(), step == 1);
                    }
                    case OptimizerSpec.RmsProp r -> {
                        OptimizerKernels.rmsPropVector(pv.segment(), grads.segment(), sv.segment(), n, lr,
                                r.alpha(), r.eps(), r.weightDecay(), r.momentum());
                        OptimizerKernels.rmsPropScalar(ps.segment(), grads.segment(), ss.segment(), n, lr,
                                r.alpha(), r.eps(), r.weightDecay(), r.momentum());
                    }
                    case OptimizerSpec.Adam r -> {
                        OptimizerKernels.adamVector(pv.segment(), grads.segment(), sv.segment(), n, lr,
                                r.beta1(), r.beta2(), r.eps(), r.weightDecay(), r.decoupled(), step);
                        OptimizerKernels.adamScalar(ps.segment(), grads.segment(), ss.segment(), n, lr,
                                r.beta1(), r.beta2(), r.eps(), r.weightDecay(), r.decoupled(), step);
                    }
                }
                assertBitwise(rule + " params, step " + step + ", n=" + n, ps, pv);
                assertBitwise(rule + " state, step " + step + ", n=" + n, ss, sv);
            }
        }
    }

    @ParameterizedTest @FieldSource("SIZES")
    void fillAxpyAndSumOfSquares(int n) {
        try (TensorScope s = new TensorScope()) {
            Tensor fv = s.uniform(1, -1, 1, n), fs = s.uniform(1, -1, 1, n);
            ArrayKernels.fillVector(fv.segment(), n, 0.375f);
            ArrayKernels.fillScalar(fs.segment(), n, 0.375f);
            assertBitwise("fill n=" + n, fs, fv);

            Tensor x = s.uniform(2, -1, 1, n);
            Tensor yv = s.uniform(3, -1, 1, n), ys = s.uniform(3, -1, 1, n);
            ArrayKernels.axpyVector(-0.7f, x.segment(), yv.segment(), n);
            ArrayKernels.axpyScalar(-0.7f, x.segment(), ys.segment(), n);
            assertBitwise("axpy n=" + n, ys, yv);

            double v = ArrayKernels.sumOfSquaresVector(x.segment(), n), sc = ArrayKernels.sumOfSquaresScalar(x.segment(), n);
            assertEquals(sc, v, 1e-6 * sc, "sum of squares n=" + n);
        }
    }

    /** Over several blocks of ArrayKernels.SUM_BLOCK the float lanes are flushed to double: still 1e-6 relative. */
    @Test void sumOfSquaresOfALargeSlab() {
        int n = 10 * ArrayKernels.SUM_BLOCK + 5;
        try (TensorScope s = new TensorScope()) {
            Tensor x = s.uniform(4, -1, 1, n);
            double v = ArrayKernels.sumOfSquaresVector(x.segment(), n), sc = ArrayKernels.sumOfSquaresScalar(x.segment(), n);
            assertEquals(sc, v, 1e-6 * sc);
        }
    }
}

package dev.isthmus.engine.cpu;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.reference.LrnDropoutConformance;
import dev.isthmus.engine.testing.TensorScope;
import dev.isthmus.engine.testing.TestTensors;

/** {@link CpuDropoutPlan} against the specification, and the {@link DropoutKernels} vector kernels against their scalar twins. */
class CpuDropoutTest {
    static List<Object[]> cases() { return LrnDropoutConformance.dropoutCases(); }

    @ParameterizedTest(name = "n={0}, p={1}, seed={2}")
    @MethodSource("cases")
    void maskIsTheSpecification(int n, float p, long seed) {
        LrnDropoutConformance.dropoutMatchesSpecification("cpu", CpuDropoutPlan::new, n, p, seed);
    }

    @ParameterizedTest @ValueSource(floats = {0.1f, 0.5f, 0.9f})
    void keepsAboutOneMinusP(float p) {
        LrnDropoutConformance.keepsAboutOneMinusP("cpu", CpuDropoutPlan::new, p);
    }

    /** Every awkward size, several probabilities: the vector kernels give the scalar twins' bits. */
    @Test void vectorKernelsMatchTheirScalarTwinsBitForBit() {
        for (int n : TestTensors.AWKWARD_SIZES)
            for (float p : new float[] {0f, 0.1f, 0.5f, 0.9f, 0.999f}) {
                try (TensorScope s = new TensorScope()) {
                    Tensor src = s.uniform(n, -1, 1, n), diffDst = s.uniform(n + 1, -1, 1, n);
                    Tensor dv = s.zeros(n), ds = s.zeros(n), gv = s.zeros(n), gs = s.zeros(n);
                    Tensor mv = s.allocate(Shape.of(n), DType.U8), ms = s.allocate(Shape.of(n), DType.U8);
                    DropoutKernels.forwardVector(dv.segment(), mv.segment(), src.segment(), n, 77L * n, p);
                    DropoutKernels.forwardScalar(ds.segment(), ms.segment(), src.segment(), n, 77L * n, p);
                    String what = "n=" + n + " p=" + p;
                    assertArrayEquals(LrnDropoutConformance.bytes(ms), LrnDropoutConformance.bytes(mv), what + " mask");
                    assertBitwise(what + " forward", ds, dv);
                    DropoutKernels.backwardVector(gv.segment(), diffDst.segment(), mv.segment(), n, p);
                    DropoutKernels.backwardScalar(gs.segment(), diffDst.segment(), ms.segment(), n, p);
                    assertBitwise(what + " backward", gs, gv);
                }
            }
    }

    /** A mask byte other than 0 or 1 counts as kept on both paths. */
    @Test void anyNonZeroMaskByteKeeps() {
        int n = 37;
        try (TensorScope s = new TensorScope()) {
            Tensor diffDst = s.uniform(3, -1, 1, n), mask = s.allocate(Shape.of(n), DType.U8);
            for (int i = 0; i < n; i++) mask.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i % 3 == 0 ? 0 : 1 << (i % 8)));
            Tensor gv = s.zeros(n), gs = s.zeros(n);
            DropoutKernels.backwardVector(gv.segment(), diffDst.segment(), mask.segment(), n, 0.5f);
            DropoutKernels.backwardScalar(gs.segment(), diffDst.segment(), mask.segment(), n, 0.5f);
            assertBitwise("backward", gs, gv);
        }
    }
}

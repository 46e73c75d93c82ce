package dev.isthmus.engine.cpu;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.reference.LrnDropoutConformance;
import dev.isthmus.engine.testing.TensorScope;

/**
 * {@link CpuLrnPlan} against the reference backend, on the calling thread and split into tasks,
 * and every {@link LrnKernels} vector kernel against its scalar twin (bit for bit at beta 0.75).
 */
class CpuLrnTest {
    static List<LrnSpec> specs() {
        List<LrnSpec> all = new ArrayList<>(LrnDropoutConformance.oddSpecs());
        all.addAll(LrnDropoutConformance.evenSpecs());
        return all;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void planMatchesReference(LrnSpec spec) {
        LrnDropoutConformance.lrnMatchesReference("cpu", CpuLrnPlan::new, spec);
        // three tasks run in reverse order on this thread: the split covers every unit once
        LrnDropoutConformance.lrnMatchesReference("cpu in 3 tasks", s -> new CpuLrnPlan(s, 3, (tasks, task) -> {
            for (int t = tasks - 1; t >= 0; t--) task.accept(t);
        }), spec);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void vectorKernelsMatchTheirScalarTwins(LrnSpec spec) {
        LrnKernels.Geometry g = new LrnKernels.Geometry(spec);
        int hw = spec.height() * spec.width();
        boolean exact = spec.beta() == 0.75f;
        try (TensorScope s = new TensorScope()) {
            Tensor src = s.uniform(1, -2, 2, spec.shape()), diffDst = s.uniform(2, -1, 1, spec.shape());
            Tensor vector = s.zeros(spec.shape()), scalar = s.zeros(spec.shape());
            float[] scratch = new float[g.scratchFloats()];
            for (int n = 0; n < spec.batch(); n++) {
                // an odd split of the positions: ranges that start off the vector grid
                for (int p0 = 0; p0 < hw; p0 += 37) {
                    int p1 = Math.min(hw, p0 + 37);
                    LrnKernels.forwardVector(vector.segment(), src.segment(), g, n, p0, p1);
                    LrnKernels.forwardScalar(scalar.segment(), src.segment(), g, n, p0, p1);
                }
            }
            check(spec + " forward", scalar, vector, exact);
            for (int n = 0; n < spec.batch(); n++) {
                for (int p0 = 0; p0 < hw; p0 += LrnKernels.CHUNK - 5) {
                    int p1 = Math.min(hw, p0 + LrnKernels.CHUNK - 5);
                    LrnKernels.backwardVector(vector.segment(), diffDst.segment(), src.segment(), g, n, p0, p1, scratch);
                    LrnKernels.backwardScalar(scalar.segment(), diffDst.segment(), src.segment(), g, n, p0, p1, scratch);
                }
            }
            check(spec + " backward", scalar, vector, exact);
        }
    }

    private static void check(String what, Tensor scalar, Tensor vector, boolean exact) {
        if (exact) assertBitwise(what, scalar, vector); else assertClose(what, scalar, vector, 1e-6, 1e-5);
    }

    @Test void backwardChecksItsRangeAndScratch() {
        LrnSpec spec = new LrnSpec(1, 3, 20, 20, 3, 1f, 0.75f, 1f);
        LrnKernels.Geometry g = new LrnKernels.Geometry(spec);
        try (TensorScope s = new TensorScope()) {
            MemorySegment x = s.zeros(spec.shape()).segment();
            assertThrows(IllegalArgumentException.class,
                    () -> LrnKernels.backwardVector(x, x, x, g, 0, 0, LrnKernels.CHUNK + 1, new float[g.scratchFloats()]));
            assertThrows(IllegalArgumentException.class,
                    () -> LrnKernels.backwardScalar(x, x, x, g, 0, 0, 10, new float[g.scratchFloats() - 1]));
        }
        try (TensorScope s = new TensorScope(); LrnPlan plan = new CpuLrnPlan(spec)) {
            Tensor x = s.zeros(spec.shape());
            assertThrows(IllegalArgumentException.class, () -> plan.forwardTraining(x, x, x));   // an F32 workspace
            plan.forwardTraining(x, s.allocate(Shape.of(1), DType.U8), x);                       // a U8 one is ignored
        }
    }
}

package dev.isthmus.engine.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.cpu.CpuLrnPlan;
import dev.isthmus.engine.reference.LrnDropoutConformance;
import dev.isthmus.engine.testing.TensorScope;

/**
 * oneDNN's LRN (plain, and blocked behind reorders) against the reference backend, its workspace
 * and argument checks; even sizes on the cpu kernel; dropout against the specification.
 */
class DnnlLrnDropoutTest {
    private static DnnlBackend backend;

    @BeforeAll static void open() { backend = new DnnlBackend(); }

    @AfterAll static void close() { backend.close(); }

    /** The odd sizes from 3 (size 1 goes to the cpu kernel, see {@link DnnlBackend#lrn}). */
    static List<LrnSpec> odd() { return LrnDropoutConformance.oddSpecs().stream().filter(s -> s.size() > 1).toList(); }

    @ParameterizedTest(name = "{0}")
    @MethodSource("odd")
    void lrnMatchesReference(LrnSpec spec) {
        LrnDropoutConformance.lrnMatchesReference(backend, spec);
        try (LrnPlan plan = backend.lrn(spec)) {
            DnnlLrnPlan dnnl = assertInstanceOf(DnnlLrnPlan.class, plan);
            assertEquals(0, dnnl.reorderCount(), dnnl.layouts());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("odd")
    void plainAndBlockedLrnMatchReference(LrnSpec spec) {
        LrnDropoutConformance.lrnMatchesReference("dnnl abcd", s -> new DnnlLrnPlan(backend, s, DnnlLrnPlan.Layout.PLAIN), spec);
        LrnDropoutConformance.lrnMatchesReference("dnnl nChw16c", s -> new DnnlLrnPlan(backend, s, DnnlLrnPlan.Layout.BLOCKED), spec);
    }

    /** Even sizes, size 1, and size 1 where plain is also nhwc (the shapes that crash oneDNN's kernel generator). */
    static List<LrnSpec> others() {
        List<LrnSpec> all = new java.util.ArrayList<>(LrnDropoutConformance.evenSpecs());
        all.addAll(LrnDropoutConformance.oddSpecs().stream().filter(s -> s.size() == 1).toList());
        all.add(new LrnSpec(2, 17, 1, 1, 1, 1f, 0.75f, 1f));
        return all;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("others")
    void otherSizesUseTheCpuKernel(LrnSpec spec) {
        try (LrnPlan plan = backend.lrn(spec)) {
            assertInstanceOf(CpuLrnPlan.class, plan);
        }
        LrnDropoutConformance.lrnMatchesReference(backend, spec);
        var e = assertThrows(IllegalArgumentException.class, () -> new DnnlLrnPlan(backend, spec));
        assertTrue(e.getMessage().contains("odd sizes from 3"), e.getMessage());
    }

    @Test void workspaceIsCheckedAndPlanClosed() {
        LrnSpec spec = new LrnSpec(2, 16, 5, 5, 5, 5e-4f, 0.75f, 2f);
        DnnlLrnPlan plan = (DnnlLrnPlan) backend.lrn(spec);
        try (TensorScope s = new TensorScope()) {
            Tensor x = s.zeros(spec.shape()), small = s.allocate(Shape.of(1), DType.U8);
            if (plan.workspaceBytes() > 0) {
                var e = assertThrows(IllegalArgumentException.class, () -> plan.forwardTraining(x, null, x));
                assertEquals(spec + ": workspace is null, expected [" + plan.workspaceBytes() + "]", e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> plan.backward(x, x, x, small));
                assertTrue(e.getMessage().startsWith(spec + ": workspace has shape [1] U8, expected ["), e.getMessage());
            }
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forwardInference(s.zeros(2, 16, 5, 4), x));
            assertEquals(spec + ": dst has shape [2, 16, 5, 4] F32, expected [2, 16, 5, 5] F32", e.getMessage());
            plan.close();
            assertThrows(IllegalStateException.class, () -> plan.forwardInference(x, x));
        }
    }

    static List<Object[]> dropouts() { return LrnDropoutConformance.dropoutCases(); }

    @ParameterizedTest(name = "n={0}, p={1}, seed={2}")
    @MethodSource("dropouts")
    void dropoutMaskIsTheSpecification(int n, float p, long seed) {
        LrnDropoutConformance.dropoutMatchesSpecification(backend, n, p, seed);
    }

    @ParameterizedTest @ValueSource(floats = {0.1f, 0.5f, 0.9f})
    void dropoutKeepsAboutOneMinusP(float p) {
        LrnDropoutConformance.keepsAboutOneMinusP(backend, p);
    }
}

package dev.isthmus.engine.reference;

import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Pool2dSpec.Kind;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.testing.GradientCheck;
import dev.isthmus.engine.testing.TensorScope;
import dev.isthmus.engine.testing.TestTensors;

class ReferencePool2dTest {
    private final ReferenceBackend backend = new ReferenceBackend();

    private static int[] workspaceInts(Tensor workspace) {
        int[] ints = new int[Math.toIntExact(workspace.byteSize() / 4)];
        for (int i = 0; i < ints.length; i++) ints[i] = workspace.segment().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
        return ints;
    }

    // src (1, 1, 4, 4) = 1..16 row-major; 2x2 stride 2: maxima 6 8 14 16 at plane indices 5 7 13 15.
    @Test void maxByHand() {
        Pool2dSpec spec = new Pool2dSpec(1, 1, 4, 4, Window.square(2, 2, 0), Kind.MAX);
        try (TensorScope s = new TensorScope(); Pool2dPlan plan = backend.pool2d(spec)) {
            float[] values = new float[16];
            for (int i = 0; i < 16; i++) values[i] = i + 1;
            Tensor dst = s.zeros(1, 1, 2, 2);
            assertEquals(16, plan.workspaceBytes());
            Tensor workspace = s.allocate(Shape.of(16), DType.U8);
            plan.forwardTraining(dst, workspace, s.of(values, 1, 1, 4, 4));
            assertClose("max pool", new float[] {6, 8, 14, 16}, dst, 0, 0);
            assertArrayEquals(new int[] {5, 7, 13, 15}, workspaceInts(workspace));

            Tensor diffSrc = s.zeros(1, 1, 4, 4);
            plan.backward(diffSrc, s.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2), workspace);
            assertClose("max pool backward", new float[] {0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4}, diffSrc, 0, 0);
        }
    }

    // Equal values everywhere, 3x3 stride 2 padding 1 on 3x3: the first position of each window wins,
    // and padded positions never do. Windows start at (-1,-1), (-1,1), (1,-1), (1,1) -> first inputs 0, 1, 3, 4.
    @Test void maxTiesTakeTheFirstInputPosition() {
        Pool2dSpec spec = new Pool2dSpec(1, 1, 3, 3, Window.square(3, 2, 1), Kind.MAX);
        try (TensorScope s = new TensorScope(); Pool2dPlan plan = backend.pool2d(spec)) {
            Tensor workspace = s.allocate(Shape.of(16), DType.U8);
            Tensor dst = s.zeros(1, 1, 2, 2);
            plan.forwardTraining(dst, workspace, s.of(new float[] {-5, -5, -5, -5, -5, -5, -5, -5, -5}, 1, 1, 3, 3));
            assertClose("max of equal negatives (padding is not a zero)", new float[] {-5, -5, -5, -5}, dst, 0, 0);
            assertArrayEquals(new int[] {0, 1, 3, 4}, workspaceInts(workspace));
        }
    }

    // src (1, 1, 3, 3) = 1..9, 3x3 stride 2 padding 1: window sums 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28.
    // Include padding (oneDNN: KH KW = 9; PyTorch count_include_pad=True gives the same): 12/9 16/9 24/9 28/9.
    // Exclude padding: each window covers 4 inputs: 3 4 6 7.
    @Test void averageByHand() {
        float[] src = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        try (TensorScope s = new TensorScope()) {
            Tensor dst = s.zeros(1, 1, 2, 2);
            try (Pool2dPlan plan = backend.pool2d(new Pool2dSpec(1, 1, 3, 3, Window.square(3, 2, 1), Kind.AVG_INCLUDE_PADDING))) {
                assertEquals(0, plan.workspaceBytes());
                plan.forwardTraining(dst, null, s.of(src, 1, 1, 3, 3));
                assertClose("avg include padding", new float[] {12f / 9, 16f / 9, 24f / 9, 28f / 9}, dst, 1e-6, 1e-6);
            }
            try (Pool2dPlan plan = backend.pool2d(new Pool2dSpec(1, 1, 3, 3, Window.square(3, 2, 1), Kind.AVG_EXCLUDE_PADDING))) {
                plan.forwardInference(dst, s.of(src, 1, 1, 3, 3));
                assertClose("avg exclude padding", new float[] {3, 4, 6, 7}, dst, 1e-6, 1e-6);
                // backward with diffDst = 1 4 8 12 / 4: each input gets the sum over the windows covering it
                Tensor diffSrc = s.zeros(1, 1, 3, 3);
                plan.backward(diffSrc, s.of(new float[] {4, 8, 12, 16}, 1, 1, 2, 2), null);
                // (0,0): window 0 only -> 1; (0,1): windows 0,1 -> 1+2; (1,1): all four -> 1+2+3+4; (2,2): window 3 -> 4
                assertClose("avg exclude backward", new float[] {1, 3, 2, 4, 10, 6, 3, 7, 4}, diffSrc, 1e-6, 1e-6);
            }
        }
    }

    /** Overlapping 3x3 stride 2 windows with asymmetric padding, every kind against central differences. */
    @ParameterizedTest @EnumSource(Kind.class)
    void backwardMatchesFiniteDifferences(Kind kind) {
        Pool2dSpec spec = new Pool2dSpec(2, 3, 7, 8, new Window(3, 3, 2, 2, 1, 1, 0, 1, 0, 0), kind);
        try (TensorScope s = new TensorScope(); Pool2dPlan plan = backend.pool2d(spec)) {
            Tensor src = s.distinct(21, 0.1f, spec.srcShape());   // no ties: the argmax stays put under a 1e-2 step
            Tensor dst = s.zeros(spec.dstShape());
            Tensor workspace = plan.workspaceBytes() == 0 ? null : s.allocate(Shape.of((int) plan.workspaceBytes()), DType.U8);
            plan.forwardTraining(dst, workspace, src);
            float[] r = TestTensors.uniform(22, Math.toIntExact(spec.dstShape().elements()), -1, 1);
            Tensor diffSrc = s.zeros(spec.srcShape());
            plan.backward(diffSrc, s.of(r, spec.dstShape()), workspace);
            GradientCheck.check("pool " + kind + " diffSrc", src,
                    x -> { plan.forwardInference(dst, x); return GradientCheck.dot(dst, r); },
                    diffSrc.toFloatArray(), 1e-2, 1e-4, 1e-3);
        }
    }

    @Test void workspaceIsCheckedAgainstTheKind() {
        try (TensorScope s = new TensorScope();
             Pool2dPlan max = backend.pool2d(new Pool2dSpec(1, 1, 4, 4, Window.square(2, 2, 0), Kind.MAX));
             Pool2dPlan avg = backend.pool2d(new Pool2dSpec(1, 1, 4, 4, Window.square(2, 2, 0), Kind.AVG_EXCLUDE_PADDING))) {
            Tensor src = s.zeros(1, 1, 4, 4), dst = s.zeros(1, 1, 2, 2);
            assertThrows(IllegalArgumentException.class, () -> max.forwardTraining(dst, null, src));
            assertThrows(IllegalArgumentException.class, () -> max.forwardTraining(dst, s.allocate(Shape.of(8), DType.U8), src));
            assertThrows(IllegalArgumentException.class, () -> avg.forwardTraining(dst, s.allocate(Shape.of(16), DType.U8), src));
        }
    }
}

package dev.isthmus.engine.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Pool2dSpec.Kind;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** oneDNN pooling against naive loops: max (overlapping too), both averages, padding. */
class DnnlPool2dPlanTest {
    static DnnlBackend backend;

    @BeforeAll static void open() { backend = new DnnlBackend(); }

    @AfterAll static void close() { backend.close(); }

    static Stream<Pool2dSpec> specs() {
        return Stream.of(
                new Pool2dSpec(3, 6, 28, 28, Window.square(2, 2, 0), Kind.MAX),                 // LeNet S2 as max
                new Pool2dSpec(3, 6, 28, 28, Window.square(2, 2, 0), Kind.AVG_INCLUDE_PADDING), // LeNet S2
                new Pool2dSpec(2, 7, 13, 13, Window.square(3, 2, 0), Kind.MAX),                 // AlexNet overlapping
                new Pool2dSpec(1, 3, 15, 17, Window.square(3, 2, 1), Kind.MAX),
                new Pool2dSpec(1, 3, 15, 17, Window.square(3, 2, 1), Kind.AVG_INCLUDE_PADDING),
                new Pool2dSpec(1, 3, 15, 17, Window.square(3, 2, 1), Kind.AVG_EXCLUDE_PADDING),
                new Pool2dSpec(2, 1, 7, 9, new Window(3, 2, 1, 2, 2, 0, 0, 1, 0, 0), Kind.AVG_EXCLUDE_PADDING),
                new Pool2dSpec(2, 1, 7, 9, new Window(3, 2, 1, 2, 2, 0, 0, 1, 0, 0), Kind.MAX));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void matchesNaiveLoops(Pool2dSpec s) {
        Random r = new Random(s.hashCode());
        try (DnnlPool2dPlan plan = backend.pool2d(s);
             Tensor src = Naive.tensor(r, s.srcShape().dims());
             Tensor dst = Tensor.allocate(s.dstShape(), DType.F32);
             Tensor inferred = Tensor.allocate(s.dstShape(), DType.F32);
             Tensor workspace = plan.workspaceBytes() == 0 ? null
                     : Tensor.allocate(Shape.of(Math.toIntExact(plan.workspaceBytes())), DType.U8);
             Tensor diffDst = Naive.tensor(r, s.dstShape().dims());
             Tensor diffSrc = Tensor.allocate(s.srcShape(), DType.F32)) {
            assertEquals(s.kind() == Kind.MAX, plan.workspaceBytes() > 0, "workspace only for max pooling");
            diffSrc.fill(7f);
            plan.forwardTraining(dst, workspace, src);
            plan.forwardInference(inferred, src);
            plan.backward(diffSrc, diffDst, workspace);
            float[] expected = Naive.poolForward(s, src.toFloatArray());
            Naive.assertClose(s + " forward training", expected, dst.toFloatArray(), 1e-6);
            Naive.assertClose(s + " forward inference", expected, inferred.toFloatArray(), 1e-6);
            Naive.assertClose(s + " backward", Naive.poolBackward(s, diffDst.toFloatArray(), src.toFloatArray()),
                    diffSrc.toFloatArray(), 1e-6);
            assertEquals(0, plan.reorderCount(), plan.layouts());
        }
    }

    @Test
    void workspaceIsCheckedAndPlanClosed() {
        Pool2dSpec max = new Pool2dSpec(1, 2, 6, 6, Window.square(2, 2, 0), Kind.MAX);
        DnnlPool2dPlan plan = backend.pool2d(max);
        try (Tensor src = Tensor.zeros(1, 2, 6, 6); Tensor dst = Tensor.zeros(1, 2, 3, 3);
             Tensor small = Tensor.allocate(Shape.of(1), DType.U8)) {
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forwardTraining(dst, null, src));
            assertEquals(max + ": workspace is null, expected [" + plan.workspaceBytes() + "]", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plan.forwardTraining(dst, small, src));
            assertTrue(e.getMessage().startsWith(max + ": workspace has shape [1] U8, expected ["), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plan.forwardInference(src, src));
            assertEquals(max + ": dst has shape [1, 2, 6, 6] F32, expected [1, 2, 3, 3] F32", e.getMessage());
            plan.close();
            assertThrows(IllegalStateException.class, () -> plan.forwardInference(dst, src));
        }
        Pool2dSpec avg = new Pool2dSpec(1, 2, 6, 6, Window.square(2, 2, 0), Kind.AVG_EXCLUDE_PADDING);
        try (DnnlPool2dPlan plan2 = backend.pool2d(avg);
             Tensor src = Tensor.zeros(1, 2, 6, 6); Tensor dst = Tensor.zeros(1, 2, 3, 3);
             Tensor ws = Tensor.allocate(Shape.of(4), DType.U8)) {
            var e = assertThrows(IllegalArgumentException.class, () -> plan2.forwardTraining(dst, ws, src));
            assertEquals(avg + ": workspace [4] given but AVG_EXCLUDE_PADDING pooling has none (workspaceBytes() is 0)", e.getMessage());
        }
    }
}

package dev.isthmus.engine.simd;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** DirectConv's vector kernels against their scalar twins: the forward bit for bit (same order), backward-weights within rounding. */
class DirectConvTest {
    static List<Conv2dSpec> specs() {
        return List.of(new Conv2dSpec(3, 1, 32, 32, 6, Window.square(5, 1, 0), 1, true),     // C1: rows of 28, one block of 6
                new Conv2dSpec(3, 6, 14, 14, 16, Window.square(5, 1, 0), 1, true),            // C3: rows of 10, blocks past 16
                new Conv2dSpec(2, 2, 9, 41, 7, new Window(3, 5, 1, 1, 0, 0, 0, 0, 0, 0), 1, false),
                new Conv2dSpec(1, 1, 5, 5, 1, Window.square(5, 1, 0), 1, true));              // one output pixel, one channel
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void vectorKernelsMatchTheirScalarTwins(Conv2dSpec spec) {
        assertTrue(DirectConv.applies(spec));
        DirectConv conv = new DirectConv(spec);
        int n = spec.batch();
        long srcFloats = spec.srcShape().elements(), dstFloats = spec.dstShape().elements(), wFloats = spec.weightsShape().elements();
        long srcStride = srcFloats / n, dstStride = dstFloats / n;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = floats(arena, TestTensors.uniform(1, (int) srcFloats, -1, 1));
            MemorySegment w = floats(arena, TestTensors.uniform(2, (int) wFloats, -0.3f, 0.3f));
            MemorySegment bias = spec.hasBias() ? floats(arena, TestTensors.uniform(3, spec.outChannels(), -0.1f, 0.1f)) : null;
            MemorySegment dd = floats(arena, TestTensors.uniform(4, (int) dstFloats, -1, 1));
            MemorySegment vec = arena.allocate(dstFloats * 4), scalar = arena.allocate(dstFloats * 4);
            for (int img = 0; img < n; img++) {
                conv.forwardVector(vec, img * dstStride, src, img * srcStride, w, bias);
                conv.forwardScalar(scalar, img * dstStride, src, img * srcStride, w, bias);
            }
            assertBitwise(spec + " forward", floats(scalar), floats(vec));
            MemorySegment dwVec = arena.allocate(wFloats * 4), dwScalar = arena.allocate(wFloats * 4);
            MemorySegment lanes = arena.allocate(DirectConv.LANE_FLOATS * 4L, 64);
            conv.backwardWeightsVector(dwVec, dd, dstStride, src, srcStride, 0, n, lanes);
            conv.backwardWeightsScalar(dwScalar, dd, dstStride, src, srcStride, 0, n);
            assertClose(spec + " backward-weights", floats(dwScalar), floats(dwVec), 1e-5, 1e-5);
        }
    }

    @org.junit.jupiter.api.Test void otherGeometriesAreNotDirect() {
        assertFalse(DirectConv.applies(new Conv2dSpec(1, 3, 12, 12, 4, Window.square(5, 1, 2), 1, true)));   // padded
        assertFalse(DirectConv.applies(new Conv2dSpec(1, 3, 12, 12, 4, Window.square(5, 2, 0), 1, true)));   // strided
        assertFalse(DirectConv.applies(new Conv2dSpec(1, 3, 12, 12, 4, Window.square(3, 1, 0), 1, true)));   // 3 wide
        assertFalse(DirectConv.applies(new Conv2dSpec(1, 4, 12, 12, 4, Window.square(5, 1, 0), 2, true)));   // groups
    }

    private static MemorySegment floats(Arena arena, float[] values) {
        MemorySegment s = arena.allocate(values.length * 4L, 64);
        MemorySegment.copy(values, 0, s, ValueLayout.JAVA_FLOAT, 0, values.length);
        return s;
    }

    private static float[] floats(MemorySegment s) { return s.toArray(ValueLayout.JAVA_FLOAT); }
}

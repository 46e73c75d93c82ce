package dev.isthmus.engine.dnnl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.PlanHints;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.simd.SimdBackend;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A tensor in oneDNN's blocked layout: a plan writes it without a reorder, plain reads and writes
 * convert once each (counted), get/set address elements where the layout put them, padding stays
 * zero, and a tensor in the wrong layout is an exception naming both layouts.
 */
class DnnlLayoutTest {
    static DnnlBackend backend;
    // LeNet's C3 with 20 output channels: a blocked dst pads them to 32
    static final Conv2dSpec SPEC = new Conv2dSpec(2, 6, 14, 14, 20, Window.square(5, 1, 0), 1, true, EltwiseKind.RELU);

    @BeforeAll static void open() { backend = new DnnlBackend(); }

    @AfterAll static void close() { backend.close(); }

    @Test
    void aPlanWritesItsOwnLayoutWithoutAReorderAndReadsConvertOnce() {
        Random r = new Random(11);
        try (DnnlConv2dPlan plan = backend.conv2d(SPEC, PlanHints.INFERENCE.withPlainDst(false));
             DnnlConv2dPlan plainPlan = backend.conv2d(SPEC, PlanHints.INFERENCE);
             Tensor src = Naive.tensor(r, SPEC.srcShape().dims());
             Tensor w = Naive.tensor(r, SPEC.weightsShape().dims());
             Tensor b = Naive.tensor(r, SPEC.outChannels());
             Tensor plainDst = Tensor.allocate(SPEC.dstShape(), DType.F32);
             Tensor blockedDst = backend.allocate(SPEC.dstShape(), DType.F32, plan.dstLayout());
             Tensor back = Tensor.allocate(SPEC.dstShape(), DType.F32)) {
            Layout blocked = plan.dstLayout();
            assertFalse(blocked.isPlain(), "oneDNN's forward writes " + plan.layouts());
            assertTrue(blocked instanceof DnnlLayout, blocked.name());

            plainPlan.forward(plainDst, src, w, b);
            plan.forward(blockedDst, src, w, b);
            assertFalse(plan.layouts().matches("(?s).* dst \\S*->.*"), "no reorder out of dst: " + plan.layouts());
            // a plain dst where the plan's boundary is the primitive's layout is a mistake, named
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forward(plainDst, src, w, b));
            assertTrue(e.getMessage().contains("plain") && e.getMessage().contains(blocked.name()), e.getMessage());

            long c0 = Tensor.conversionCount();
            float[] expected = blockedDst.toFloatArray();
            assertEquals(1, Tensor.conversionCount() - c0, "one conversion per read");
            Naive.assertClose("blocked dst, converted to plain, vs a plain plan's", plainDst.toFloatArray(), expected, 1e-5);
            blockedDst.copyTo(back);
            assertArrayEquals(expected, back.toFloatArray());
            assertEquals(2, Tensor.conversionCount() - c0, "copyTo a plain tensor converts once");
            for (int i : new int[] {0, 1, 7, 195, expected.length - 1}) assertEquals(expected[i], blockedDst.get(i), "element " + i);
        }
    }

    @Test
    void aPaddedBlockedLayoutKeepsItsPaddingZero() {
        Shape shape = Shape.of(2, 20, 3, 5);   // nChw16c pads 20 channels to 32
        Layout blocked;
        try (Dnnl.MemoryDesc md = Dnnl.MemoryDesc.of(shape.longDims(), dev.isthmus.bindings.dnnl.dnnl_h.dnnl_f32(),
                dev.isthmus.bindings.dnnl.dnnl_h.dnnl_aBcd16b())) {
            blocked = backend.layoutOf(md);
        }
        assertEquals("dnnl aBcd16b [2, 20, 3, 5]", blocked.name());
        float[] values = Naive.random(new Random(13), Math.toIntExact(shape.elements()));
        try (Tensor t = backend.allocate(shape, DType.F32, blocked)) {
            assertEquals(4L * 2 * 32 * 3 * 5, t.byteSize());
            t.copyFrom(values);
            assertArrayEquals(values, t.toFloatArray());
            // element (n=1, c=17, h=2, w=4): block 1 of channels, lane 1
            long index = ((1 * 20 + 17) * 3 + 2) * 5 + 4;
            assertEquals((((1L * 2 + 1) * 3 + 2) * 5 + 4) * 16 + 1, blocked.offsetOf(shape, index));
            assertEquals(values[(int) index], t.get(index));
            t.set(index, 42f);
            assertEquals(42f, t.toFloatArray()[(int) index]);
            t.fill(3f);
            assertEquals(0f, paddingSum(t), "padded lanes stay zero after set, copyFrom and fill");
            assertEquals(3f * shape.elements(), sum(t.toFloatArray()));
        }
    }

    private static float sum(float[] a) {
        float s = 0;
        for (float v : a) s += v;
        return s;
    }

    @Test
    void mixingLayoutsIsAnExceptionNamingBoth() {
        Random r = new Random(12);
        Pool2dSpec pool = new Pool2dSpec(2, 20, 10, 10, Window.square(2, 2, 0), Pool2dSpec.Kind.MAX);
        try (DnnlConv2dPlan conv = backend.conv2d(SPEC, PlanHints.INFERENCE.withPlainDst(false));
             Tensor blocked = backend.allocate(SPEC.dstShape(), DType.F32, conv.dstLayout());
             Tensor src = Naive.tensor(r, SPEC.srcShape().dims());
             Tensor w = Naive.tensor(r, SPEC.weightsShape().dims());
             Tensor b = Naive.tensor(r, SPEC.outChannels());
             DnnlPool2dPlan plain = backend.pool2d(pool, PlanHints.INFERENCE);
             Tensor pooled = Tensor.allocate(pool.dstShape(), DType.F32);
             SimdBackend simd = new SimdBackend();
             var simdPool = simd.pool2d(pool)) {
            // a blocked src where the plan takes plain (its primitive chose abcd): both layouts in the message
            var e = assertThrows(IllegalArgumentException.class, () -> plain.forwardInference(pooled, blocked));
            assertTrue(e.getMessage().contains(conv.dstLayout().name()) && e.getMessage().contains("plain"), e.getMessage());
            // a blocked tensor handed to another backend's plan
            var f = assertThrows(IllegalArgumentException.class, () -> simdPool.forwardInference(pooled, blocked));
            assertTrue(f.getMessage().contains(conv.dstLayout().name()) && f.getMessage().contains("plain"), f.getMessage());
            // a blocked weights tensor where the weights are plain at the boundary
            try (Tensor blockedWeights = backend.allocate(SPEC.dstShape(), DType.F32, conv.dstLayout())) {
                assertThrows(IllegalArgumentException.class, () -> conv.forward(blocked, src, blockedWeights, b));
            }
            // views and reshapes of a blocked tensor are not defined
            assertThrows(IllegalStateException.class, () -> blocked.reshape(Shape.of(2, 20 * 10 * 10)));
            // and another backend cannot allocate in dnnl's layout
            assertThrows(IllegalArgumentException.class, () -> simd.allocate(SPEC.dstShape(), DType.F32, conv.dstLayout()));
        }
    }

    /** Sum of absolute values of the bytes no element maps to: the layout's padding. */
    private static float paddingSum(Tensor t) {
        long floats = t.byteSize() / 4;
        boolean[] used = new boolean[Math.toIntExact(floats)];
        for (long i = 0; i < t.elements(); i++) used[Math.toIntExact(t.layout().offsetOf(t.shape(), i))] = true;
        float sum = 0;
        for (int i = 0; i < used.length; i++) if (!used[i]) sum += Math.abs(t.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i));
        return sum;
    }
}

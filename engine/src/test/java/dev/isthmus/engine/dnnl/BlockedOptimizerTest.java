package dev.isthmus.engine.dnnl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The update rule an optimizer applies element by element commutes with a layout: weights and
 * gradients in oneDNN's padded blocked weights layout ({@code Acdb16a}: 6 filters padded to 16),
 * updated as one flat slab of their memory, equal the plain update after conversion, bit for bit,
 * and the padded lanes stay zero under momentum, Adam's moments and weight decay over 100 steps.
 * This is the contract weights kept in a primitive's layout rely on (gradients asked in the same
 * layout have zero padding, as oneDNN writes them).
 */
class BlockedOptimizerTest {
    static DnnlBackend backend;
    static final Shape WEIGHTS = Shape.of(6, 1, 5, 5);   // LeNet's C1

    @BeforeAll static void open() { backend = new DnnlBackend(); }

    @AfterAll static void close() { backend.close(); }

    @Test
    void sgdWithMomentumAndWeightDecay() {
        check(new OptimizerSpec.Sgd(0.9f, 0f, 5e-4f, false), 0.05f);
    }

    @Test
    void adamWithWeightDecay() {
        check(new OptimizerSpec.Adam(0.9f, 0.999f, 1e-8f, 1e-2f, false), 1e-3f);
    }

    private void check(OptimizerSpec spec, float lr) {
        Layout blocked;
        try (Dnnl.MemoryDesc md = Dnnl.MemoryDesc.of(WEIGHTS.longDims(), dnnl_h.dnnl_f32(), dnnl_h.dnnl_Acdb16a())) {
            blocked = backend.layoutOf(md);
        }
        int n = Math.toIntExact(WEIGHTS.elements());
        Random r = new Random(17);
        float[] w0 = new float[n];
        for (int i = 0; i < n; i++) w0[i] = (float) r.nextGaussian();
        try (Tensor plainW = Tensor.of(w0, WEIGHTS.dims());
             Tensor blockedW = backend.allocate(WEIGHTS, DType.F32, blocked);
             Tensor plainG = Tensor.allocate(WEIGHTS, DType.F32);
             Tensor blockedG = backend.allocate(WEIGHTS, DType.F32, blocked)) {
            blockedW.copyFrom(w0);
            int physical = Math.toIntExact(blockedW.byteSize() / 4);
            assertTrue(physical > n, blocked.name() + " pads");
            // the optimizer sees each as one flat plain slab of its memory
            Tensor flatPlainW = Tensor.wrap(plainW.segment(), Shape.of(n), DType.F32);
            Tensor flatPlainG = Tensor.wrap(plainG.segment(), Shape.of(n), DType.F32);
            Tensor flatBlockedW = Tensor.wrap(blockedW.segment(), Shape.of(physical), DType.F32);
            Tensor flatBlockedG = Tensor.wrap(blockedG.segment(), Shape.of(physical), DType.F32);
            try (OptimizerPlan plain = backend.optimizer(spec, n);
                 OptimizerPlan onBlocked = backend.optimizer(spec, physical);
                 Tensor plainState = Tensor.allocate(plain.stateShape(), DType.F32);
                 Tensor blockedState = Tensor.allocate(onBlocked.stateShape(), DType.F32)) {
                for (int step = 1; step <= 100; step++) {
                    float[] g = new float[n];
                    for (int i = 0; i < n; i++) g[i] = (float) r.nextGaussian();
                    plainG.copyFrom(g);
                    blockedG.copyFrom(g);   // as backward-weights writes diff_weights in the weights' layout
                    plain.step(flatPlainW, plainState, flatPlainG, lr, step);
                    onBlocked.step(flatBlockedW, blockedState, flatBlockedG, lr, step);
                }
                assertArrayEquals(bits(plainW.toFloatArray()), bits(blockedW.toFloatArray()),
                        spec + " on blocked weights, converted, equals it on plain weights");
                boolean[] used = new boolean[physical];
                for (long i = 0; i < n; i++) used[Math.toIntExact(blocked.offsetOf(WEIGHTS, i))] = true;
                for (int i = 0; i < physical; i++) {
                    if (used[i]) continue;
                    assertEquals(0f, blockedW.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i), "padded weight lane " + i);
                    for (int slot = 0; slot < spec.stateSlots(); slot++) {
                        assertEquals(0f, blockedState.segment().getAtIndex(ValueLayout.JAVA_FLOAT, (long) slot * physical + i),
                                "padded state lane " + i + " of slot " + slot);
                    }
                }
            }
        }
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
        return b;
    }
}

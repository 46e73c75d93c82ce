package dev.isthmus.engine.cpu;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TensorScope;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Why {@link DropoutKernels} hashes in LongVector lanes: times the vector forward and backward
 * against their scalar twins on AlexNet's dropout input (batch 32 x 4096) and a larger tensor,
 * after checking they agree bit for bit. Prints the medians; asserts nothing about time.
 */
/** Prints timings, asserts none: excluded from the default run (tag "timing"); see bench/README.md. */
@org.junit.jupiter.api.Tag("timing")
class CpuDropoutTimingTest {
    @Test void vectorAgainstScalar() {
        for (int n : new int[] {1 << 22, 32 * 4096}) {   // the big one first: it warms the JIT up
            try (TensorScope s = new TensorScope()) {
                Tensor src = s.uniform(1, -1, 1, n), a = s.zeros(n), b = s.zeros(n);
                Tensor ma = s.allocate(Shape.of(n), DType.U8), mb = s.allocate(Shape.of(n), DType.U8);
                MemorySegment x = src.segment();
                DropoutKernels.forwardVector(a.segment(), ma.segment(), x, n, 3, 0.5f);
                DropoutKernels.forwardScalar(b.segment(), mb.segment(), x, n, 3, 0.5f);
                assertBitwise("forward", b, a);
                double fv = median(() -> DropoutKernels.forwardVector(a.segment(), ma.segment(), x, n, 3, 0.5f));
                double fs = median(() -> DropoutKernels.forwardScalar(b.segment(), mb.segment(), x, n, 3, 0.5f));
                double bv = median(() -> DropoutKernels.backwardVector(a.segment(), x, ma.segment(), n, 0.5f));
                double bs = median(() -> DropoutKernels.backwardScalar(b.segment(), x, mb.segment(), n, 0.5f));
                System.out.printf("dropout n=%d: forward vector %.3f ms, scalar %.3f ms; backward vector %.3f ms, scalar %.3f ms (%s)%n",
                        n, fv, fs, bv, bs, Simd.describe());
            }
        }
    }

    private static double median(Runnable r) {
        for (int i = 0; i < 20; i++) r.run();
        double[] ms = new double[15];
        for (int i = 0; i < ms.length; i++) {
            long t0 = System.nanoTime();
            r.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[ms.length / 2];
    }
}

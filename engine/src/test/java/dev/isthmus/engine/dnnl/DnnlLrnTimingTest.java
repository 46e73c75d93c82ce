package dev.isthmus.engine.dnnl;

import static dev.isthmus.engine.testing.TensorAssert.assertClose;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.simd.SimdBackend;
import dev.isthmus.engine.testing.TensorScope;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Why {@link DnnlLrnPlan} uses the layouts it does: times oneDNN's LRN with plain NCHW descriptors,
 * nChw16c behind reorders and the per-pass choice, and the simd backend's Vector API kernel, on AlexNet's two LRN
 * shapes at batch 32 (training forward, then backward), after checking they agree. Prints the
 * medians; asserts nothing about time.
 */
/** Prints timings, asserts none: excluded from the default run (tag "timing"); see bench/README.md. */
@org.junit.jupiter.api.Tag("timing")
class DnnlLrnTimingTest {
    private static final int WARMUP = 1, RUNS = 5;

    @Test
    void compareLayoutsOnAlexNetShapes() {
        LrnSpec[] shapes = {new LrnSpec(32, 96, 55, 55, 5, 5e-4f, 0.75f, 2f),    // alexnet:norm1
                new LrnSpec(32, 256, 27, 27, 5, 5e-4f, 0.75f, 2f)};               // alexnet:norm2
        try (DnnlBackend dnnl = new DnnlBackend(); SimdBackend simd = new SimdBackend()) {
            for (LrnSpec spec : shapes) {
                try (TensorScope s = new TensorScope();
                     DnnlLrnPlan plain = new DnnlLrnPlan(dnnl, spec, DnnlLrnPlan.Layout.PLAIN);
                     DnnlLrnPlan blocked = new DnnlLrnPlan(dnnl, spec, DnnlLrnPlan.Layout.BLOCKED);
                     DnnlLrnPlan chosen = new DnnlLrnPlan(dnnl, spec, DnnlLrnPlan.Layout.CHOSEN);
                     LrnPlan vector = simd.lrn(spec)) {
                    Shape shape = spec.shape();
                    Tensor src = s.uniform(1, -2, 2, shape), diffDst = s.uniform(2, -1, 1, shape);
                    Tensor dst = s.zeros(shape), diffSrc = s.zeros(shape);
                    Tensor expectedDst = s.zeros(shape), expectedDiff = s.zeros(shape);
                    vector.forwardTraining(expectedDst, null, src);
                    vector.backward(expectedDiff, diffDst, src, null);
                    StringBuilder line = new StringBuilder(spec.toString());
                    for (LrnPlan plan : new LrnPlan[] {plain, blocked, chosen, vector}) {
                        Tensor ws = plan.workspaceBytes() == 0 ? null
                                : s.allocate(Shape.of(Math.toIntExact(plan.workspaceBytes())), DType.U8);
                        plan.forwardTraining(dst, ws, src);
                        plan.backward(diffSrc, diffDst, src, ws);
                        assertClose(plan + " forward", expectedDst, dst, 1e-6, 1e-5);
                        assertClose(plan + " backward", expectedDiff, diffSrc, 1e-5, 1e-4);
                        double inference = median(() -> plan.forwardInference(dst, src));
                        double forward = median(() -> plan.forwardTraining(dst, ws, src));
                        double backward = median(() -> plan.backward(diffSrc, diffDst, src, ws));
                        String name = plan == plain ? "dnnl plain" : plan == blocked ? "dnnl nChw16c" : plan == chosen ? "dnnl chosen" : "simd";
                        line.append(String.format("%n  %-13s inference %7.2f ms  training forward %7.2f ms  backward %7.2f ms",
                                name, inference, forward, backward));
                        if (plan instanceof DnnlLrnPlan d) {
                            for (String l : d.layouts().split("\n")) line.append("\n      ").append(l);
                        }
                    }
                    System.out.println(line);
                }
            }
            System.out.println("dnnl: " + dnnl.describe() + "; simd: " + simd.describe());
        }
    }

    private static double median(Runnable r) {
        for (int i = 0; i < WARMUP; i++) r.run();
        double[] ms = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long t0 = System.nanoTime();
            r.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[RUNS / 2];
    }
}

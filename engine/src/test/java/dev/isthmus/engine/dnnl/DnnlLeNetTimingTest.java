package dev.isthmus.engine.dnnl;

import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Prints oneDNN's chosen layouts and the times of LeNet-5's convolutions at batch 64; asserts nothing. */
/** Prints timings, asserts none: excluded from the default run (tag "timing"); see bench/README.md. */
@org.junit.jupiter.api.Tag("timing")
class DnnlLeNetTimingTest {
    @Test
    void printLayoutsAndTimes() {
        try (DnnlBackend backend = new DnnlBackend()) {
            System.out.println("[dnnl] " + backend.describe());
            for (boolean plain : new boolean[] {false}) {
                time(backend, "C1", new Conv2dSpec(64, 1, 32, 32, 6, Window.square(5, 1, 0), 1, true), plain);
                time(backend, "C3", new Conv2dSpec(64, 6, 14, 14, 16, Window.square(5, 1, 0), 1, true), plain);
                time(backend, "C5", new Conv2dSpec(64, 16, 5, 5, 120, Window.square(5, 1, 0), 1, true), plain);
            }
        }
    }

    private static void time(DnnlBackend backend, String name, Conv2dSpec s, boolean plain) {
        Random r = new Random(1);
        try (DnnlConv2dPlan plan = new DnnlConv2dPlan(backend, s, plain);
             Tensor src = Naive.tensor(r, s.srcShape().dims()); Tensor w = Naive.tensor(r, s.weightsShape().dims());
             Tensor bias = Naive.tensor(r, s.outChannels()); Tensor dst = Tensor.allocate(s.dstShape(), DType.F32);
             Tensor diffDst = Naive.tensor(r, s.dstShape().dims()); Tensor diffSrc = Tensor.allocate(s.srcShape(), DType.F32);
             Tensor diffW = Tensor.allocate(s.weightsShape(), DType.F32); Tensor diffBias = Tensor.allocate(s.biasShape(), DType.F32)) {
            System.out.println("[dnnl] LeNet " + name + (plain ? " plain" : " any") + " " + s + ", reorders per step " + plan.reordersPerStep() + "\n  "
                    + plan.layouts().replace("\n", "\n  "));
            // Best of 10 batches of 20: the shared build machine's other work inflates single batches.
            double[] ms = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
            for (int batch = 0; batch < 12; batch++) {
                for (int k = 0; k < 3; k++) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < 20; i++) {
                        switch (k) {
                            case 0 -> plan.forward(dst, src, w, bias);
                            case 1 -> plan.backwardData(diffSrc, diffDst, w);
                            default -> plan.backwardWeights(diffW, diffBias, diffDst, src);
                        }
                    }
                    if (batch >= 2) ms[k] = Math.min(ms[k], (System.nanoTime() - t0) / 1e6 / 20);
                }
            }
            System.out.printf("[dnnl] LeNet %s %s fwd %.3f ms  bwd-data %.3f ms  bwd-weights %.3f ms  (%.1f GFLOP/s fwd, best of 10 x 20)%n",
                    name, plain ? "plain" : "any  ", ms[0], ms[1], ms[2], s.flops() / ms[0] / 1e6);
        }
    }
}

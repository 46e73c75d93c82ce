package dev.isthmus.engine.simd;

import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.testing.TensorScope;

/** Prints LeNet-5's convolutions (C1, C3, C5) at batch 64 on the simd backend: best of many runs, per pass. Not a test. */
public final class LeNetBench {
    public static void main(String[] args) {
        int batch = 64;
        Conv2dSpec[] specs = {
                new Conv2dSpec(batch, 1, 32, 32, 6, Window.square(5, 1, 0), 1, true),
                new Conv2dSpec(batch, 6, 14, 14, 16, Window.square(5, 1, 0), 1, true),
                new Conv2dSpec(batch, 16, 5, 5, 120, Window.square(5, 1, 0), 1, true)};
        String[] names = {"C1", "C3", "C5"};
        try (SimdBackend simd = new SimdBackend(); TensorScope scope = new TensorScope()) {
            System.out.println(simd.describe());
            for (int i = 0; i < specs.length; i++) {
                Conv2dSpec s = specs[i];
                try (Conv2dPlan plan = simd.conv2d(s)) {
                    Tensor src = scope.uniform(1, -1, 1, s.srcShape()), w = scope.uniform(2, -1, 1, s.weightsShape());
                    Tensor b = scope.uniform(3, -1, 1, s.biasShape()), dst = scope.zeros(s.dstShape());
                    Tensor dd = scope.uniform(4, -1, 1, s.dstShape()), ds = scope.zeros(s.srcShape());
                    Tensor dw = scope.zeros(s.weightsShape()), db = scope.zeros(s.biasShape());
                    best(() -> plan.forward(dst, src, w, b));   // warm up (the JIT competes for the same cores)
                    best(() -> plan.backwardData(ds, dd, w));
                    best(() -> plan.backwardWeights(dw, db, dd, src));
                    double f = best(() -> plan.forward(dst, src, w, b));
                    double bd = best(() -> plan.backwardData(ds, dd, w));
                    double bw = best(() -> plan.backwardWeights(dw, db, dd, src));
                    System.out.printf("%s %s  fwd %.3f ms (%.1f GFLOP/s)  bwd-data %.3f ms  bwd-weights %.3f ms%n",
                            names[i], s, f, s.flops() / f / 1e6, bd, bw);
                }
            }
        }
    }

    static double best(Runnable r) {
        double best = Double.MAX_VALUE;
        long end = System.nanoTime() + 1_500_000_000L;
        for (int rep = 0; System.nanoTime() < end || rep < 10; rep++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        return best;
    }
}

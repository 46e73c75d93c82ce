package dev.isthmus.bench;

import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.nn.AlexNet;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.Sequential;

import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Inference before and after layouts travel, in one process, interleaved round by round so that a
 * loaded machine slows both alike: "plain" is the forward an inference compile ran before issue 12,
 * which a training compile in {@code eval()} still runs (training plans, plain tensors at every
 * plan's boundary, the pooling and LRN plans' inference primitives), "travelling" an inference
 * compile now (forward_inference plans, layouts passed from plan to plan, weights kept in the
 * primitives' layouts). Prints per model and batch the
 * median and the fastest round of each, their ratio, and the reorders each runs per forward.
 *
 * <pre>
 *   java --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *        -cp bench/target/benchmarks.jar dev.isthmus.bench.LayoutsComparison [rounds]
 * </pre>
 */
public final class LayoutsComparison {
    private LayoutsComparison() {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        try (DnnlBackend dnnl = new DnnlBackend()) {
            System.out.println("oneDNN: " + dnnl.describe() + "; " + rounds + " interleaved rounds per case");
            System.out.printf(Locale.ROOT, "%-15s %5s %9s %14s %14s %14s %14s %8s%n", "model", "batch", "reorders",
                    "plain median", "plain best", "travel median", "travel best", "speedup");
            compare("LeNet-5", LeNet5::classic, Shape.of(1, 32, 32), 1, 400, rounds, dnnl);
            compare("LeNet-5", LeNet5::classic, Shape.of(1, 32, 32), 256, 10, rounds, dnnl);
            for (int batch : new int[] {1, 32}) {
                int calls = batch == 1 ? 6 : 1;
                compare("AlexNet paper", () -> AlexNet.paper(1000), Shape.of(3, 227, 227), batch, calls, rounds, dnnl);
                compare("AlexNet modern", () -> AlexNet.modern(1000), Shape.of(3, 224, 224), batch, calls, rounds, dnnl);
            }
        }
    }

    private static void compare(String name, Supplier<Sequential> model, Shape input, int batch, int calls, int rounds,
                                DnnlBackend dnnl) {
        try (Sequential before = model.get().compile(dnnl, batch, input, Sequential.Mode.TRAIN, 1).eval();
             Sequential after = model.get().compile(dnnl, batch, input, Sequential.Mode.INFERENCE, 1);
             Tensor x = Verify.uniform(dnnl, input.prepend(batch), 5, -1f, 1f)) {
            Verify.requireClose(name + " travelling vs plain logits", before.forward(x).toFloatArray(), after.forward(x).toFloatArray(), 1e-4);
            long r0 = dnnl.reorderCount();
            before.forward(x);
            long r1 = dnnl.reorderCount();
            after.forward(x);
            long r2 = dnnl.reorderCount();
            double[] a = new double[rounds], b = new double[rounds];
            for (int i = 0; i < 2; i++) {   // warm-up rounds
                time(before, x, calls);
                time(after, x, calls);
            }
            for (int i = 0; i < rounds; i++) {
                a[i] = time(before, x, calls);
                b[i] = time(after, x, calls);
            }
            Arrays.sort(a);
            Arrays.sort(b);
            double ma = a[rounds / 2], mb = b[rounds / 2];
            System.out.printf(Locale.ROOT, "%-15s %5d %4d->%-4d %14s %14s %14s %14s %7.2fx%n", name, batch, r1 - r0, r2 - r1,
                    fmt(ma), fmt(a[0]), fmt(mb), fmt(b[0]), ma / mb);
        }
    }

    /** Seconds per forward over {@code calls} forwards. */
    private static double time(Sequential m, Tensor x, int calls) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) m.forward(x);
        return (System.nanoTime() - t0) / 1e9 / calls;
    }

    private static String fmt(double seconds) {
        return seconds < 1e-3 ? String.format(Locale.ROOT, "%.1f us", seconds * 1e6) : String.format(Locale.ROOT, "%.2f ms", seconds * 1e3);
    }
}

package dev.isthmus.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.nn.AlexNet;
import dev.isthmus.nn.CrossEntropyLoss;
import dev.isthmus.nn.ModelSummary;
import dev.isthmus.nn.SGD;
import dev.isthmus.nn.Sequential;

/**
 * AlexNet ({@link AlexNet#paper} at 227x227 or {@link AlexNet#modern} at 224x224, 1000 classes)
 * as a whole network on one fixed random batch: {@link #trainStep} is forward, loss, zeroGrad,
 * backward and an SGD step (momentum 0.9, weight decay 5e-4) at batch 32; {@link #inference} is
 * a forward pass at batch 1 and 32. {@link AlexNetReport} adds images per second.
 *
 * <p>Checked in {@code @Setup}, before anything is measured (no reference-backend comparison:
 * the reference backend needs minutes per AlexNet step): two forward passes of the same batch
 * give bit-identical logits, all finite; for training, the loss on the fixed batch (measured
 * with dropout off) is finite and lower after two training steps than before them.
 *
 * <p>Printed once per trial: oneDNN reorders executed per training step or forward
 * ({@link DnnlBackend#reorderCount()}, dnnl only), and the memory the model takes, measured
 * as the growth of the process's {@code VmRSS} ({@code /proc/self/status}) from before compile
 * to after the first runs (for training: with the loss, the optimizer's momentum and the first
 * steps), less the growth of the Java heap's committed size. That covers the engine's tensors
 * and oneDNN's own allocations (reordered weights, scratchpads) alike, and the JVM's other
 * native growth (JIT code) too. An estimate from {@link ModelSummary} is printed beside it.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})   // the last one silences JMH's own sun.misc.Unsafe warnings
public class AlexNetBenchmark {
    static final int TRAIN_BATCH = 32;
    static final int CLASSES = 1000;
    static final int CHECK_STEPS = 2;      // training steps whose effect on the loss is checked
    static final int REORDER_STEPS = 2;    // steady-state steps over which reorders are counted in @Setup
    static final long SEED = 42;
    static final float LR = 0.01f, MOMENTUM = 0.9f, WEIGHT_DECAY = 5e-4f;

    @Benchmark
    public float trainStep(Training t) {
        return t.step();
    }

    @Benchmark
    public Tensor inference(Inference s) {
        return s.model.forward(s.images);
    }

    /** An uncompiled AlexNet of {@code variant} ("paper" or "modern"). */
    static Sequential network(String variant) {
        return switch (variant) {
            case "paper" -> AlexNet.paper(CLASSES);
            case "modern" -> AlexNet.modern(CLASSES);
            default -> throw new IllegalArgumentException("variant must be paper or modern, got " + variant);
        };
    }

    /** (C, H, W) per sample for {@code variant}. */
    static Shape input(String variant) {
        int side = "paper".equals(variant) ? AlexNet.PAPER_SIZE : AlexNet.MODERN_SIZE;
        return Shape.of(3, side, side);
    }

    /** A model compiled for training at batch 32, its loss, SGD with momentum and weight decay, and one batch. */
    @State(Scope.Benchmark)
    public static class Training {
        /** dnnl, simd or reference ({@link BackendKind#parse}). */
        @Param("dnnl")
        public String backend;

        /** paper ({@link AlexNet#paper}) or modern ({@link AlexNet#modern}). */
        @Param({"paper", "modern"})
        public String variant;

        /** Whether each convolution's ReLU is fused into it ({@link Sequential#fuseActivations}). */
        @Param("true")
        public boolean fused;

        Backend engine;
        Sequential model;
        CrossEntropyLoss loss;
        SGD sgd;
        Tensor images;   // (N, 3, H, W)
        Tensor labels;   // (N) int32
        long steps, stepsAtSetupEnd, reordersAtSetupEnd;
        float lastLoss;

        @Setup(Level.Trial)
        public void setup() {
            long started = System.nanoTime();
            engine = Backends.create(BackendKind.parse(backend));
            Shape input = input(variant);
            System.out.printf(Locale.ROOT, "%nAlexNet (%s) training step, batch %d, on %s [%s]%n",
                    variant, TRAIN_BATCH, backend, engine.describe());
            Memory before = Memory.now();
            model = network(variant).fuseActivations(fused).compile(engine, TRAIN_BATCH, input, Sequential.Mode.TRAIN, SEED);
            System.out.println("fused: " + model.fusions());
            loss = new CrossEntropyLoss().compile(engine, TRAIN_BATCH, CLASSES);
            sgd = new SGD(model.parameters(), LR, MOMENTUM, WEIGHT_DECAY, false);
            images = Verify.uniform(engine, input.prepend(TRAIN_BATCH), 31, -1f, 1f);
            labels = Verify.labels(engine, TRAIN_BATCH, CLASSES, 32);
            Memory compiled = Memory.now();

            // determinism and the loss before training, dropout off
            model.eval();
            float[] first = model.forward(images).toFloatArray();
            float[] second = model.forward(images).toFloatArray();
            for (float v : first) Verify.requireFinite("a logit", v);
            Verify.requireClose("AlexNet (" + variant + ") on " + backend + ": first vs second forward, batch "
                    + TRAIN_BATCH, first, second, 0);
            float lossBefore = Verify.requireFinite("loss before training", evalLoss());

            // two training steps (dropout on), then the loss again with dropout off
            model.train();
            for (int i = 0; i < CHECK_STEPS; i++) Verify.requireFinite("loss at step " + (i + 1), step());
            Memory trained = Memory.now();
            float lossAfter = Verify.requireFinite("loss after " + CHECK_STEPS + " steps", evalLoss());
            model.train();
            System.out.printf(Locale.ROOT, "check loss on the fixed batch (dropout off): %.7f before, %.7f after %d steps%n",
                    lossBefore, lossAfter, CHECK_STEPS);
            if (!(lossAfter < lossBefore)) {
                throw new IllegalStateException("the loss did not fall over " + CHECK_STEPS + " steps on one batch: "
                        + lossBefore + " -> " + lossAfter);
            }

            // reorders per steady-state step
            if (engine instanceof DnnlBackend dnnl) {
                long r0 = dnnl.reorderCount();
                for (int i = 0; i < REORDER_STEPS; i++) step();
                long r1 = dnnl.reorderCount();
                System.out.printf(Locale.ROOT, "oneDNN reorders per training step: %.1f (%d over %d steps after %d warm-up steps)%n",
                        (double) (r1 - r0) / REORDER_STEPS, r1 - r0, REORDER_STEPS, CHECK_STEPS);
                reordersAtSetupEnd = dnnl.reorderCount();
            } else {
                System.out.println("oneDNN reorders per training step: n/a (backend " + backend + ")");
            }
            stepsAtSetupEnd = steps;

            System.out.println("oneDNN reorders per training step as the plans report them: " + model.reordersPerStep());
            System.out.println(model.memory());
            Memory.print("training", before, compiled, trained, CHECK_STEPS);
            System.out.printf(Locale.ROOT, "  estimate: %s%n",
                    Memory.estimate(model, variant, TRAIN_BATCH, true));
            System.out.printf(Locale.ROOT, "setup and checks took %.1f s%n", (System.nanoTime() - started) / 1e9);
        }

        private float evalLoss() {
            model.eval();
            return loss.forward(model.forward(images), labels);
        }

        /** One training step; returns the loss before the update. */
        float step() {
            float l = loss.forward(model.forward(images), labels);
            sgd.zeroGrad();
            model.backward(loss.backward());
            sgd.step();
            steps++;
            lastLoss = l;
            return l;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            System.out.printf(Locale.ROOT, "%nloss after %d steps on the same batch: %.6f%n", steps, lastLoss);
            if (engine instanceof DnnlBackend dnnl && steps > stepsAtSetupEnd) {
                long n = steps - stepsAtSetupEnd;
                System.out.printf(Locale.ROOT, "oneDNN reorders per training step over the %d measured steps: %.1f%n",
                        n, (double) (dnnl.reorderCount() - reordersAtSetupEnd) / n);
            }
            Verify.requireFinite("loss after " + steps + " steps", lastLoss);
            if (labels != null) labels.close();
            if (images != null) images.close();
            if (sgd != null) sgd.close();
            if (loss != null) loss.close();
            if (model != null) model.close();
            if (engine != null) engine.close();
        }
    }

    /** A model compiled for inference at a batch of {@code batch} and one batch of images. */
    @State(Scope.Benchmark)
    public static class Inference {
        /** dnnl, simd or reference ({@link BackendKind#parse}). */
        @Param("dnnl")
        public String backend;

        /** paper ({@link AlexNet#paper}) or modern ({@link AlexNet#modern}). */
        @Param({"paper", "modern"})
        public String variant;

        @Param({"1", "32"})
        public int batch;

        /** Whether each convolution's ReLU is fused into it ({@link Sequential#fuseActivations}). */
        @Param("true")
        public boolean fused;

        Backend engine;
        Sequential model;
        Tensor images;   // (N, 3, H, W)

        @Setup(Level.Trial)
        public void setup() {
            long started = System.nanoTime();
            engine = Backends.create(BackendKind.parse(backend));
            Shape input = input(variant);
            System.out.printf(Locale.ROOT, "%nAlexNet (%s) inference, batch %d, on %s [%s]%n",
                    variant, batch, backend, engine.describe());
            Memory before = Memory.now();
            model = network(variant).fuseActivations(fused).compile(engine, batch, input, Sequential.Mode.INFERENCE, SEED);
            System.out.println("fused: " + model.fusions());
            images = Verify.uniform(engine, input.prepend(batch), 41, -1f, 1f);
            Memory compiled = Memory.now();
            float[] first = model.forward(images).toFloatArray();
            for (float v : first) Verify.requireFinite("a logit", v);
            long r0 = engine instanceof DnnlBackend d ? d.reorderCount() : 0;
            float[] second = model.forward(images).toFloatArray();
            long r1 = engine instanceof DnnlBackend d ? d.reorderCount() : 0;
            Memory ran = Memory.now();
            Verify.requireClose("AlexNet (" + variant + ") on " + backend + ": first vs second forward, batch " + batch,
                    first, second, 0);
            System.out.println(engine instanceof DnnlBackend
                    ? "oneDNN reorders per forward: " + (r1 - r0) + " (the second forward)"
                    : "oneDNN reorders per forward: n/a (backend " + backend + ")");
            System.out.println("oneDNN reorders per forward as the plans report them: " + model.reordersPerForward());
            System.out.println(model.memory());
            Memory.print("inference", before, compiled, ran, 2);
            System.out.printf(Locale.ROOT, "  estimate: %s%n", Memory.estimate(model, variant, batch, false));
            System.out.printf(Locale.ROOT, "setup and checks took %.1f s%n", (System.nanoTime() - started) / 1e9);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (images != null) images.close();
            if (model != null) model.close();
            if (engine != null) engine.close();
        }
    }

    /** The process's memory at one moment: VmRSS and the Java heap's committed bytes. */
    record Memory(long rss, long heapCommitted) {
        static Memory now() {
            return new Memory(readRss(), Runtime.getRuntime().totalMemory());
        }

        /** VmRSS from /proc/self/status in bytes, or -1 where there is none (not Linux). */
        static long readRss() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        String[] f = line.substring(6).trim().split("\\s+");   // "123456 kB"
                        return Long.parseLong(f[0]) * 1024;
                    }
                }
                return -1;
            } catch (IOException | UncheckedIOException | NumberFormatException e) {
                return -1;
            }
        }

        /**
         * VmRSS growth over compile and over the first runs, and that growth less the Java heap's
         * committed growth: the native memory (tensors, oneDNN's primitives and scratchpads) as measured.
         */
        static void print(String what, Memory before, Memory compiled, Memory ran, int runs) {
            long rss = ran.rss - before.rss, heap = ran.heapCommitted - before.heapCommitted;
            System.out.printf(Locale.ROOT,
                    "native memory (%s), measured by VmRSS: %.1f MiB after compile and %d runs"
                            + " (VmRSS +%.1f MiB after compile, +%.1f MiB after %d runs, less Java heap committed +%.1f MiB)%n",
                    what, mib(rss - heap), runs, mib(compiled.rss - before.rss), mib(rss), runs, mib(heap));
        }

        /**
         * An estimate, not a measurement: parameters x 4 bytes (x 4 when training: values, grads,
         * momentum, plus at most one layer's gradient scratch counted as a full copy) plus every
         * layer's output x batch x 4 bytes (x 2 when training, for the gradient buffers).
         */
        static String estimate(Sequential model, String variant, int batch, boolean training) {
            ModelSummary summary = ModelSummary.of(network(variant), input(variant));
            long activations = 0;
            for (ModelSummary.Row r : summary.rows()) activations += r.output().elements();
            long params = model.parameters().count();
            double paramBytes = params * 4.0 * (training ? 4 : 1);
            double actBytes = activations * (double) batch * 4 * (training ? 2 : 1);
            return String.format(Locale.ROOT, "%.1f MiB = parameters %,d x 4 B x %d (%.1f MiB) + activations %,d/sample"
                            + " x %d x 4 B x %d (%.1f MiB)", mib(paramBytes + actBytes), params, training ? 4 : 1,
                    mib(paramBytes), activations, batch, training ? 2 : 1, mib(actBytes));
        }

        static double mib(double bytes) { return bytes / (1024.0 * 1024.0); }
    }
}

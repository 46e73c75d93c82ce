package dev.isthmus.bench;

import java.util.Arrays;
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
import dev.isthmus.nn.CrossEntropyLoss;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.SGD;
import dev.isthmus.nn.Sequential;

/**
 * LeNet-5 ({@link LeNet5#classic()}) as a whole network on one fixed random batch:
 * {@link #trainStep} is forward, loss, zeroGrad, backward and an SGD step at batch 64;
 * {@link #inference} is a forward pass at batch 1 and 256. Run with {@code -prof gc} to see
 * {@code gc.alloc.rate.norm}, the bytes allocated on the Java heap per step (the goal is 0).
 * {@link LeNetReport} adds images per second.
 *
 * <p>Checked in {@code @Setup}, before anything is measured: the training loss is finite and
 * falls over {@value #CHECK_STEPS} steps, and those steps' losses and parameter changes match
 * the reference backend's from the same initial parameters; inference logits match the
 * reference backend's. The data are random, so the loss says nothing about learning digits
 * (the nn tests do that on MNIST).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})   // the last one silences JMH's own sun.misc.Unsafe warnings
public class LeNetBenchmark {
    static final int TRAIN_BATCH = 64;
    static final int CHECK_STEPS = 5;
    static final long SEED = 42;
    static final float LR = 0.01f, MOMENTUM = 0.9f;
    static final Shape INPUT = Shape.of(1, 32, 32);   // (C, H, W) per sample

    @Benchmark
    public float trainStep(Training t) {
        return t.step();
    }

    @Benchmark
    public Tensor inference(Inference s) {
        return s.model.forward(s.images);
    }

    /** A model compiled for training at batch 64, its loss, SGD with momentum, and one batch. */
    @State(Scope.Benchmark)
    public static class Training {
        /** dnnl, simd or reference ({@link BackendKind#parse}). */
        @Param("dnnl")
        public String backend;

        /** Whether each convolution's scaled tanh is fused into it ({@link Sequential#fuseActivations}). */
        @Param("true")
        public boolean fused;

        Backend engine;
        Sequential model;
        CrossEntropyLoss loss;
        SGD sgd;
        Tensor images;   // (N, 1, 32, 32)
        Tensor labels;   // (N) int32
        long steps;
        float lastLoss;

        @Setup(Level.Trial)
        public void setup() {
            engine = Backends.create(BackendKind.parse(backend));
            System.out.printf(Locale.ROOT, "%nLeNet-5 training step, batch %d, on %s [%s]%n",
                    TRAIN_BATCH, backend, engine.describe());
            open(engine);
            float[][] mine = firstSteps();
            float[] losses = mine[0];
            System.out.println("losses over the first " + CHECK_STEPS + " steps: " + Arrays.toString(losses));
            for (int i = 0; i < CHECK_STEPS; i++) Verify.requireFinite("loss at step " + (i + 1), losses[i]);
            if (!(losses[CHECK_STEPS - 1] < losses[0])) {
                throw new IllegalStateException("the loss did not fall over " + CHECK_STEPS + " steps on one batch: "
                        + Arrays.toString(losses));
            }
            Training twin = new Training();
            float[][] expected;
            try (Backend reference = Backends.create(BackendKind.REFERENCE)) {
                twin.open(reference);
                expected = twin.firstSteps();
            } finally {
                twin.close();
            }
            String what = "LeNet-5 on " + backend + " vs reference over " + CHECK_STEPS + " steps: ";
            Verify.requireClose(what + "losses", expected[0], losses, 1e-4);
            Verify.requireClose(what + "parameter change", expected[1], mine[1], 1e-3);
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

        /** {losses, parameters after - parameters before} over the first CHECK_STEPS steps. */
        private float[][] firstSteps() {
            float[] before = model.parameters().values().toFloatArray();
            float[] losses = new float[CHECK_STEPS];
            for (int i = 0; i < CHECK_STEPS; i++) losses[i] = step();
            float[] change = model.parameters().values().toFloatArray();
            for (int i = 0; i < change.length; i++) change[i] -= before[i];
            return new float[][] {losses, change};
        }

        private void open(Backend on) {
            model = LeNet5.classic().fuseActivations(fused).compile(on, TRAIN_BATCH, INPUT, Sequential.Mode.TRAIN, SEED);
            loss = new CrossEntropyLoss().compile(on, TRAIN_BATCH, LeNet5.CLASSES);
            sgd = new SGD(model.parameters(), LR, MOMENTUM, 0f, false);
            images = Verify.uniform(on, INPUT.prepend(TRAIN_BATCH), 11, -1f, 1f);
            labels = Verify.labels(on, TRAIN_BATCH, LeNet5.CLASSES, 12);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            System.out.printf(Locale.ROOT, "%nloss after %d steps on the same batch: %.6f%n", steps, lastLoss);
            Verify.requireFinite("loss after " + steps + " steps", lastLoss);
            close();
            if (engine != null) engine.close();
        }

        private void close() {
            if (labels != null) labels.close();
            if (images != null) images.close();
            if (sgd != null) sgd.close();
            if (loss != null) loss.close();
            if (model != null) model.close();
        }
    }

    /** A model compiled for inference at a batch of {@code batch} and one batch of images. */
    @State(Scope.Benchmark)
    public static class Inference {
        /** dnnl, simd or reference ({@link BackendKind#parse}). */
        @Param("dnnl")
        public String backend;

        @Param({"1", "256"})
        public int batch;

        /** Whether each convolution's scaled tanh is fused into it ({@link Sequential#fuseActivations}). */
        @Param("true")
        public boolean fused;

        Backend engine;
        Sequential model;
        Tensor images;   // (N, 1, 32, 32)

        @Setup(Level.Trial)
        public void setup() {
            engine = Backends.create(BackendKind.parse(backend));
            System.out.printf(Locale.ROOT, "%nLeNet-5 inference, batch %d, on %s [%s]%n", batch, backend, engine.describe());
            model = LeNet5.classic().fuseActivations(fused).compile(engine, batch, INPUT, Sequential.Mode.INFERENCE, SEED);
            images = Verify.uniform(engine, INPUT.prepend(batch), 21, -1f, 1f);
            float[] logits = model.forward(images).toFloatArray();
            for (float v : logits) Verify.requireFinite("a logit", v);
            float[] expected;
            try (Backend reference = Backends.create(BackendKind.REFERENCE);
                 Sequential twin = LeNet5.classic().compile(reference, batch, INPUT, Sequential.Mode.INFERENCE, SEED);
                 Tensor same = Verify.uniform(reference, INPUT.prepend(batch), 21, -1f, 1f)) {
                expected = twin.forward(same).toFloatArray();
            }
            Verify.requireClose("LeNet-5 logits on " + backend + " vs reference, batch " + batch, expected, logits, 1e-4);
            if (engine instanceof dev.isthmus.engine.dnnl.DnnlBackend dnnl) {
                long r0 = dnnl.reorderCount();
                model.forward(images);
                System.out.println("oneDNN reorders per forward: " + (dnnl.reorderCount() - r0) + " counted, "
                        + model.reordersPerForward() + " as the plans report them");
            }
            System.out.println(model.memory());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (images != null) images.close();
            if (model != null) model.close();
            if (engine != null) engine.close();
        }
    }
}

package dev.isthmus.bench;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.nn.DynamicBatcher;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Predictor;
import dev.isthmus.nn.Preprocessing;
import dev.isthmus.nn.Sequential;
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

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * LeNet-5 batch-1 predictions from many callers at once, in process. One operation is a round:
 * {@code callers} tasks (on platform or virtual threads) each make {@value #PER_CALLER} predictions;
 * predictions per second = callers x {@value #PER_CALLER} / (seconds per op). Every single call's
 * latency goes into a ring, and the trial's teardown prints p50, p99 and the throughput.
 *
 * <p>{@code path}: {@code predictor} ({@link Predictor}, one context per processor),
 * {@code batched} (the same predictor behind a {@link DynamicBatcher}, maxBatch 64, 0 µs), and
 * {@code locked} (today's way to share a compiled {@link Sequential}: one model behind a lock, since
 * a shared model without one returns wrong answers). {@link #mixedSizes} compares the two
 * {@link Predictor.BatchPlans} over batch sizes 1..16 from one caller. {@code @Setup} checks that
 * the predictor's logits equal the plain model's.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class PredictorBenchmark {
    static final int PER_CALLER = 64;
    static final Shape INPUT = Shape.of(1, 32, 32);
    static final int IN = 32 * 32, OUT = 10;

    static Model lenet() {
        try (Backend b = Backends.create(BackendKind.REFERENCE);
             Sequential s = LeNet5.classic().compile(b, 1, INPUT, Sequential.Mode.INFERENCE, 42)) {
            return Model.of("LeNet-5 classic", s, null, Preprocessing.mnist());
        }
    }

    static float[][] inputs(int n) {
        SplittableRandom r = new SplittableRandom(7);
        float[][] x = new float[n][IN];
        for (float[] row : x) for (int i = 0; i < IN; i++) row[i] = (float) (r.nextDouble() * 1.275 - 0.1);
        return x;
    }

    @State(Scope.Benchmark)
    public static class Callers {
        @Param({"1", "2", "8", "64"})
        public int callers;

        @Param({"platform", "virtual"})
        public String threads;

        @Param({"predictor", "batched", "locked"})
        public String path;

        @Param("dnnl")
        public String backend;

        Model model;
        Predictor predictor;
        DynamicBatcher batcher;
        Backend lockedBackend;
        Sequential locked;
        Tensor lockedInput;
        ExecutorService pool;
        float[][] x;
        final long[] latencies = new long[1 << 20];
        final AtomicInteger next = new AtomicInteger();

        @Setup(Level.Trial)
        public void setUp() {
            model = lenet();
            x = inputs(64);
            predictor = Predictor.createOwning(model, Backends.create(BackendKind.parse(backend)), Predictor.Options.defaults());
            if (path.equals("batched")) batcher = new DynamicBatcher(predictor, 64, 0);
            lockedBackend = Backends.create(BackendKind.parse(backend));
            locked = model.compile(lockedBackend, 1);
            lockedInput = lockedBackend.allocate(INPUT.prepend(1), dev.isthmus.engine.DType.F32);
            float[] a = new float[OUT];
            predictor.predict(x[0], 1, a);
            lockedInput.copyFrom(x[0]);
            float[] b = locked.forward(lockedInput).toFloatArray();
            if (!Arrays.equals(a, b)) throw new IllegalStateException("predictor " + Arrays.toString(a) + " != model " + Arrays.toString(b));
            pool = threads.equals("virtual") ? Executors.newVirtualThreadPerTaskExecutor() : Executors.newFixedThreadPool(callers);
        }

        void call(int caller, int i, float[] y) {
            float[] in = x[(caller * 7 + i) & 63];
            long t0 = System.nanoTime();
            switch (path) {
                case "predictor" -> predictor.predict(in, 1, y);
                case "batched" -> batcher.predict(in, y);
                default -> {
                    synchronized (this) {
                        lockedInput.copyFrom(in);
                        Tensor out = locked.forward(lockedInput);
                        java.lang.foreign.MemorySegment.copy(out.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, y, 0, OUT);
                    }
                }
            }
            latencies[next.getAndIncrement() & (latencies.length - 1)] = System.nanoTime() - t0;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            int n = Math.min(next.get(), latencies.length);
            long[] l = Arrays.copyOf(latencies, n);
            Arrays.sort(l);
            System.out.printf(Locale.ROOT, "%n[predict] path %s, %s threads, %d callers: p50 %.1f us, p99 %.1f us over the last %,d calls%n",
                    path, threads, callers, l[n / 2] / 1e3, l[(int) (n * 0.99)] / 1e3, n);
            pool.close();
            if (batcher != null) batcher.close();
            predictor.close();
            lockedInput.close();
            locked.close();
            lockedBackend.close();
            model.close();
        }
    }

    @Benchmark
    public void round(Callers s) throws Exception {
        Future<?>[] f = new Future<?>[s.callers];
        for (int c = 0; c < s.callers; c++) {
            int caller = c;
            f[c] = s.pool.submit(() -> {
                float[] y = new float[OUT];
                for (int i = 0; i < PER_CALLER; i++) s.call(caller, i, y);
            });
        }
        for (Future<?> g : f) g.get();
    }

    @State(Scope.Benchmark)
    public static class Mixed {
        @Param({"EXACT", "PADDED"})
        public String plans;

        Model model;
        Predictor predictor;
        float[] in, out;

        @Setup(Level.Trial)
        public void setUp() {
            model = lenet();
            predictor = Predictor.createOwning(model, Backends.create(BackendKind.DNNL), Predictor.Options.defaults()
                    .withMaxBatch(16).withContexts(1).withPlans(Predictor.BatchPlans.valueOf(plans)).withPlansPerContext(16));
            float[][] x = inputs(16);
            in = new float[16 * IN];
            out = new float[16 * OUT];
            for (int i = 0; i < 16; i++) System.arraycopy(x[i], 0, in, i * IN, IN);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            System.out.printf(Locale.ROOT, "%n[mixed] %s: %d plans compiled for batch sizes 1..16%n", plans, predictor.compileCount());
            predictor.close();
            model.close();
        }
    }

    /** Batches of 1, 2, ..., 16 samples (136 in all) through one predictor: plan per size vs padded to powers of two. */
    @Benchmark
    public float[] mixedSizes(Mixed m) {
        for (int n = 1; n <= 16; n++) m.predictor.predict(m.in, n, m.out);
        return m.out;
    }
}

package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@link Predictor}: many threads on one model, batch sizes, close during calls, no leak, no allocation. */
class PredictorTest {
    private static final Shape INPUT = Shape.of(1, 32, 32);
    private static final int IN = 32 * 32, OUT = 10;

    /** LeNet-5 with its seeded initial weights: the test needs distinct outputs, not a trained model. */
    static Model lenet(boolean relu) {
        try (Backend b = new ReferenceBackend();
             Sequential s = (relu ? LeNet5.relu() : LeNet5.classic()).compile(b, 1, INPUT, Sequential.Mode.INFERENCE, 7)) {
            return Model.of(relu ? "LeNet-5 relu" : "LeNet-5 classic", s, null, Preprocessing.mnist());
        }
    }

    private static float[][] inputs(int n) {
        float[][] x = new float[n][];
        for (int i = 0; i < n; i++) x[i] = TestTensors.uniform(100 + i, IN, -0.1f, 1.175f);
        return x;
    }

    @ParameterizedTest
    @EnumSource(value = BackendKind.class, names = {"DNNL", "SIMD"})
    void eightThreadsEqualOneThreadBitForBit(BackendKind kind) throws Exception {
        int threads = 8, calls = 10_000;
        float[][] x = inputs(61);
        try (Model model = lenet(false);
             Predictor p = Predictor.createOwning(model, Backends.create(kind), Predictor.Options.defaults())) {
            float[][] expected = new float[x.length][OUT];
            for (int i = 0; i < x.length; i++) p.predict(x[i], 1, expected[i]);
            AtomicInteger wrong = new AtomicInteger();
            ConcurrentLinkedQueue<String> firstWrong = new ConcurrentLinkedQueue<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers.add(Thread.ofPlatform().start(() -> {
                    float[] y = new float[OUT];
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < calls; i++) {
                        int k = (i * 7 + id * 13) % x.length;
                        p.predict(x[k], 1, y);
                        if (!Arrays.equals(y, expected[k])) {
                            if (wrong.incrementAndGet() == 1) firstWrong.add("input " + k + ": " + Arrays.toString(y) + " vs " + Arrays.toString(expected[k]));
                        }
                    }
                }));
            }
            start.countDown();
            for (Thread w : workers) w.join();
            assertEquals(0, wrong.get(), kind + ": wrong results of " + threads * calls + "; first " + firstWrong);
        }
    }

    @Test
    void tenThousandVirtualThreadsLeaveNoStreamsBehind() throws Exception {
        float[][] x = inputs(8);
        try (Model model = lenet(false);
             DnnlBackend backend = new DnnlBackend();
             Predictor p = Predictor.create(model, backend, Predictor.Options.defaults().withContexts(4))) {
            Runnable round = () -> {
                try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
                    for (int i = 0; i < 10_000; i++) {
                        int k = i % x.length;
                        executor.submit(() -> p.predict(x[k], 1, new float[OUT]));
                    }
                }
            };
            round.run();
            int streams = backend.streamCount();
            assertTrue(streams <= 4, "streams after 10,000 virtual threads on 4 contexts: " + streams + ", expected at most 4");
            round.run();
            assertEquals(streams, backend.streamCount(), "a second 10,000 callers created streams");
            assertTrue(p.compileCount() <= 4, "plans compiled: " + p.compileCount());
        }
    }

    @ParameterizedTest
    @EnumSource(Predictor.BatchPlans.class)
    void everyBatchSizeMatchesTheReference(Predictor.BatchPlans plans) {
        int maxBatch = 9;
        float[][] x = inputs(maxBatch);
        try (Model model = lenet(true);
             Backend ref = new ReferenceBackend();
             Predictor reference = Predictor.create(model, ref, Predictor.Options.defaults().withMaxBatch(1).withContexts(1));
             Predictor p = Predictor.createOwning(model, new DnnlBackend(),
                     Predictor.Options.defaults().withMaxBatch(maxBatch).withContexts(1).withPlans(plans).withPlansPerContext(3))) {
            float[][] expected = new float[maxBatch][OUT];
            for (int i = 0; i < maxBatch; i++) reference.predict(x[i], 1, expected[i]);
            for (int n = 1; n <= maxBatch; n++) {
                float[] in = new float[n * IN], out = new float[n * OUT];
                for (int i = 0; i < n; i++) System.arraycopy(x[i], 0, in, i * IN, IN);
                p.predict(in, n, out);
                for (int i = 0; i < n; i++) {
                    float[] row = Arrays.copyOfRange(out, i * OUT, (i + 1) * OUT);
                    assertArrayEquals(expected[i], row, 1e-4f, plans + " batch " + n + " sample " + i);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> p.predict(new float[10 * IN], 10, new float[10 * OUT]));
        }
    }

    @Test
    void closeDuringCallsNeverCrashes() throws Exception {
        float[][] x = inputs(4);
        for (Predictor.Options options : List.of(Predictor.Options.defaults().withContexts(2),
                Predictor.Options.defaults().withContexts(1))) {   // one context: most callers wait when close comes
            Model model = lenet(false);
            Predictor p = Predictor.createOwning(model, new DnnlBackend(), options);
            AtomicInteger ok = new AtomicInteger(), closedErrors = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> other = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> callers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                callers.add(Thread.ofVirtual().start(() -> {
                    float[] y = new float[OUT];
                    while (!stop.get()) {
                        try {
                            p.predict(x[ok.get() % 4], 1, y);
                            ok.incrementAndGet();
                        } catch (IllegalStateException e) {
                            if (!e.getMessage().contains("closed")) other.add(e);
                            closedErrors.incrementAndGet();
                            return;
                        } catch (Throwable e) {
                            other.add(e);
                            return;
                        }
                    }
                }));
            }
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (ok.get() < 200 && other.isEmpty() && System.nanoTime() < deadline) Thread.sleep(1);
            assertTrue(other.isEmpty(), "failures before close: " + other);
            p.close();
            stop.set(true);
            for (Thread c : callers) c.join();
            model.close();
            assertTrue(other.isEmpty(), "unexpected failures: " + other);
            assertEquals(8, closedErrors.get(), "every caller should end with the predictor's IllegalStateException");
            var e = assertThrows(IllegalStateException.class, () -> p.predict(x[0], 1, new float[OUT]));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            p.close();   // idempotent
        }
    }

    @Test
    void failFastWhenEveryContextIsBusy() throws Exception {
        float[][] x = inputs(1);
        try (Model model = lenet(false);
             Predictor p = Predictor.createOwning(model, new DnnlBackend(),
                     Predictor.Options.defaults().withContexts(1).withWhenBusy(Predictor.WhenBusy.FAIL))) {
            AtomicInteger rejected = new AtomicInteger();
            List<Thread> callers = new ArrayList<>();
            long deadline = System.nanoTime() + 10_000_000_000L;
            for (int t = 0; t < 4; t++) {
                callers.add(Thread.ofPlatform().start(() -> {
                    float[] y = new float[OUT];
                    while (rejected.get() == 0 && System.nanoTime() < deadline) {
                        try {
                            p.predict(x[0], 1, y);
                        } catch (RejectedExecutionException e) {
                            assertTrue(e.getMessage().contains("busy"), e.getMessage());
                            rejected.incrementAndGet();
                        }
                    }
                }));
            }
            for (Thread c : callers) c.join();
            assertTrue(rejected.get() > 0, "4 callers on 1 context for up to 10 s were never rejected");
        }
    }

    @Test
    void topKNamesTheClassesWithProbabilities() {
        float[][] x = inputs(1);
        try (Model model = lenet(false);
             Predictor p = Predictor.createOwning(model, new DnnlBackend(), Predictor.Options.defaults().withContexts(1))) {
            float[] logits = new float[OUT];
            p.predict(x[0], 1, logits);
            List<Predictor.Prediction> top = p.top(x[0], 3);
            assertEquals(3, top.size());
            int best = 0;
            for (int i = 1; i < OUT; i++) if (logits[i] > logits[best]) best = i;
            assertEquals(best, top.getFirst().index());
            assertEquals(Integer.toString(best), top.getFirst().label());
            assertTrue(top.get(0).probability() >= top.get(1).probability() && top.get(1).probability() >= top.get(2).probability());
            double sum = 0;
            for (Predictor.Prediction q : p.top(x[0], 10)) sum += q.probability();
            assertEquals(1.0, sum, 1e-5);
        }
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void theArrayAndSegmentPathsAllocateNothing() {
        float[] x = inputs(1)[0], y = new float[OUT];
        try (Model model = lenet(false);
             Predictor p = Predictor.createOwning(model, new DnnlBackend(), Predictor.Options.defaults().withContexts(2));
             Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate((long) IN * Float.BYTES, 64), out = arena.allocate((long) OUT * Float.BYTES, 64);
            MemorySegment.copy(x, 0, in, ValueLayout.JAVA_FLOAT, 0, IN);
            assertEquals(0, bytesPerCall(() -> p.predict(x, 1, y)), "heap bytes per predict(float[])");
            assertEquals(0, bytesPerCall(() -> p.predict(in, 1, out)), "heap bytes per predict(MemorySegment)");
            float[] fromSegment = new float[OUT];
            MemorySegment.copy(out, ValueLayout.JAVA_FLOAT, 0, fromSegment, 0, OUT);
            assertArrayEquals(y, fromSegment);
        }
    }

    /** As SteadyStateAllocationTest: warm up, then this thread's allocation over many calls, best of five. */
    private static long bytesPerCall(Runnable r) {
        for (int i = 0; i < 3000; i++) r.run();
        long best = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 5 && best > 0; attempt++) {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 500; i++) r.run();
            best = Math.min(best, (THREADS.getCurrentThreadAllocatedBytes() - before) / 500);
        }
        return best;
    }

    @Test
    void wrongSizesAreRejectedNamingThem() {
        try (Model model = lenet(false);
             Predictor p = Predictor.createOwning(model, new DnnlBackend(), Predictor.Options.defaults().withMaxBatch(4))) {
            var e = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[IN - 1], 1, new float[OUT]));
            assertTrue(e.getMessage().contains("input holds 1023 floats, the batch needs 1024"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.predict(new float[IN], 0, new float[OUT]));
            assertTrue(e.getMessage().contains("batch 0 is outside [1, 4]"), e.getMessage());
        } catch (Exception e) {
            fail(e);
        }
    }
}

package dev.isthmus.engine.cpu;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TensorScope;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/**
 * The backends' thread team: every task and every element exactly once, failures rethrown,
 * nested calls inline, callers taking turns, nothing allocated per call, and the plans that split
 * ranges over it computing the same bits as on one thread.
 */
class ThreadTeamTest {
    private static final long BIG = ThreadTeam.MIN_PARALLEL + 37;   // split, with a tail that is not whole vectors

    @Test void everyElementExactlyOnce() {
        for (int threads = 1; threads <= 4; threads++) {
            try (ThreadTeam team = new ThreadTeam(threads, "test")) {
                for (long n : new long[] {0, 1, 17, ThreadTeam.MIN_PARALLEL - 1, ThreadTeam.MIN_PARALLEL, BIG}) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(Math.toIntExact(n));
                    team.run(n, (from, to) -> {
                        for (long i = from; i < to; i++) seen.incrementAndGet((int) i);
                    });
                    for (int i = 0; i < n; i++) {
                        if (seen.get(i) != 1) throw new AssertionError(threads + " threads, n " + n + ": element " + i + " run " + seen.get(i) + " times");
                    }
                }
            }
        }
    }

    @Test void everyTaskExactlyOnce() {
        for (int threads = 1; threads <= 3; threads++) {
            try (ThreadTeam team = new ThreadTeam(threads, "test")) {
                for (int tasks = 0; tasks <= 7; tasks++) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(1, tasks));
                    team.run(tasks, t -> seen.incrementAndGet(t));
                    for (int t = 0; t < tasks; t++) assertEquals(1, seen.get(t), threads + " threads, " + tasks + " tasks: task " + t);
                }
            }
        }
    }

    /** A task that calls the team again (on the caller or on a member) runs that call inline instead of deadlocking. */
    @Test void nestedCallsRunInline() {
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> {
            try (ThreadTeam team = new ThreadTeam(2, "test")) {
                java.util.concurrent.atomic.AtomicLong count = new java.util.concurrent.atomic.AtomicLong();
                team.run(4, t -> team.run(3, u -> count.incrementAndGet()));
                assertEquals(12, count.get());
                team.run(2, t -> team.run(BIG, (from, to) -> count.addAndGet(to - from)));
                assertEquals(12 + 2 * BIG, count.get());
            }
        });
    }

    @Test void partsStartOnWholeVectors() {
        try (ThreadTeam team = new ThreadTeam(3, "test")) {
            List<Long> starts = java.util.Collections.synchronizedList(new ArrayList<>());
            team.run(BIG, (from, to) -> starts.add(from));
            assertEquals(3, starts.size());
            for (long s : starts) assertEquals(0, s % ThreadTeam.ALIGN, "part start " + s);
        }
    }

    @Test void aFailingPartIsRethrownAndTheTeamStaysUsable() {
        try (ThreadTeam team = new ThreadTeam(2, "test")) {
            var e = assertThrows(IllegalStateException.class, () -> team.run(BIG, (from, to) -> {
                if (from > 0) throw new IllegalStateException("part at " + from + " failed");
            }));
            assertTrue(e.getMessage().startsWith("part at"), e.getMessage());
            var f = assertThrows(IllegalArgumentException.class, () -> team.run(2, t -> {
                if (t == 1) throw new IllegalArgumentException("task 1 failed");
            }));
            assertEquals("task 1 failed", f.getMessage());
            long[] sum = new long[1];
            team.run(BIG, (from, to) -> { synchronized (sum) { sum[0] += to - from; } });
            assertEquals(BIG, sum[0]);
        }
    }

    @Test void concurrentCallersTakeTurns() throws Exception {
        try (ThreadTeam team = new ThreadTeam(2, "test"); TensorScope scope = new TensorScope()) {
            ParallelArrays arrays = new ParallelArrays(team);
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                List<Future<Tensor>> results = new ArrayList<>();
                for (int c = 0; c < 4; c++) {
                    Tensor t = scope.zeros(Math.toIntExact(BIG));
                    float value = c + 1;
                    results.add(callers.submit(() -> {
                        for (int r = 0; r < 20; r++) arrays.fill(t, value);
                        return t;
                    }));
                }
                for (int c = 0; c < 4; c++) {
                    float[] v = results.get(c).get().toFloatArray();
                    for (int i = 0; i < v.length; i++) {
                        if (v[i] != c + 1) throw new AssertionError("caller " + c + ": element " + i + " is " + v[i]);
                    }
                }
            } finally {
                callers.shutdownNow();
            }
        }
    }

    @Test void aClosedTeamRefuses() {
        ThreadTeam team = new ThreadTeam(2, "test");
        team.close();
        assertThrows(IllegalStateException.class, () -> team.run(BIG, (from, to) -> {}));
        assertThrows(IllegalStateException.class, () -> team.run(1, t -> {}));
    }

    @Test void allocatesNothingPerCall() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (ThreadTeam team = new ThreadTeam(2, "test"); TensorScope scope = new TensorScope()) {
            ParallelArrays arrays = new ParallelArrays(team);
            Tensor x = scope.zeros(Math.toIntExact(BIG)), y = scope.zeros(Math.toIntExact(BIG));
            for (int i = 0; i < 200; i++) arrays.axpy(0.5f, x, y);   // warm: compiled, locks inflated if ever
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 100; i++) arrays.axpy(0.5f, x, y);
            long bytes = threads.getCurrentThreadAllocatedBytes() - before;
            assertEquals(0, bytes, "heap bytes the caller allocated over 100 split calls");
        }
    }

    /** Every plan that splits: the same bits as the same plan on the calling thread alone. */
    @Test void splitPlansMatchOneThreadBitForBit() {
        int n = Math.toIntExact(BIG);
        List<OptimizerSpec> rules = List.of(new OptimizerSpec.Sgd(0.9f, 0f, 5e-4f, false), new OptimizerSpec.Sgd(0.9f, 0f, 0f, true), new OptimizerSpec.Sgd(0f, 0f, 1e-4f, false),
                new OptimizerSpec.RmsProp(0.99f, 1e-8f, 1e-4f, 0.9f), new OptimizerSpec.Adam(0.9f, 0.999f, 1e-8f, 1e-2f, true));
        try (ThreadTeam team = new ThreadTeam(2, "test"); TensorScope s = new TensorScope()) {
            for (OptimizerSpec rule : rules) {
                CpuOptimizerPlan one = new CpuOptimizerPlan(rule, n), split = new CpuOptimizerPlan(rule, n, team);
                Tensor p1 = s.uniform(1, -1, 1, n), p2 = s.uniform(1, -1, 1, n);
                Tensor s1 = s.zeros(one.stateShape()), s2 = s.zeros(split.stateShape());
                for (int step = 1; step <= 3; step++) {
                    Tensor g = s.uniform(10 + step, -1, 1, n);
                    one.step(p1, s1, g, 0.01f, step);
                    split.step(p2, s2, g, 0.01f, step);
                }
                assertBitwise(rule + " params", p1, p2);
                assertBitwise(rule + " state", s1, s2);
            }
            for (EltwiseKind kind : EltwiseKind.values()) {
                CpuEltwisePlan one = new CpuEltwisePlan(kind, n), split = new CpuEltwisePlan(kind, n, team);
                Tensor x = s.uniform(3, -3, 3, n), y1 = s.zeros(n), y2 = s.zeros(n), dy = s.uniform(4, -1, 1, n);
                Tensor d1 = s.zeros(n), d2 = s.zeros(n);
                one.forward(y1, x);
                split.forward(y2, x);
                // tanh and exp lanes may differ by an ulp between the interpreter and C2 (EltwiseKernels): not the split's doing
                if (kind == EltwiseKind.RELU) assertBitwise(kind + " forward", y1, y2);
                else assertClose(kind + " forward", y1, y2, 1e-6, 1e-6);
                one.backward(d1, dy, y1);
                split.backward(d2, dy, y1);
                assertBitwise(kind + " backward", d1, d2);
            }
        }
    }
}

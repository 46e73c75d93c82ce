package dev.isthmus.engine.simd;

import dev.isthmus.engine.cpu.ThreadTeam;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * A quick GFLOP/s print for the SGEMM at 256, 512 and 1024 (not a test: no timing is asserted).
 * Run: java --add-modules jdk.incubator.vector -cp ... dev.isthmus.engine.simd.SgemmBench [sizes...]
 */
public final class SgemmBench {
    public static void main(String[] args) {
        int[] sizes = args.length == 0 ? new int[] {256, 512, 1024} : java.util.Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        int threads = Integer.getInteger("threads", Runtime.getRuntime().availableProcessors());
        System.out.println("tile " + Sgemm.tile() + ", threads " + threads);
        try (Arena arena = Arena.ofShared(); ThreadTeam pool = new ThreadTeam(threads, "sgemm-bench")) {
            for (int n : sizes) {
                MemorySegment a = random(arena, (long) n * n, 1), b = random(arena, (long) n * n, 2), c = random(arena, (long) n * n, 3);
                try (Sgemm g = new Sgemm(pool, n, n, n)) {
                    double flops = 2.0 * n * n * n;
                    for (int round = 0; round < 2; round++)
                    for (boolean tb : new boolean[] {false, true}) {
                        double best = Double.MAX_VALUE;
                        long deadline = System.nanoTime() + 1_500_000_000L;
                        int reps = 0;
                        while (System.nanoTime() < deadline || reps < 5) {
                            long t0 = System.nanoTime();
                            g.gemm(false, tb, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
                            best = Math.min(best, System.nanoTime() - t0);
                            reps++;
                        }
                        if (round == 1) System.out.printf("sgemm %4d^3 transB=%-5b best %.3f ms  %.1f GFLOP/s (%d reps)%n", n, tb, best / 1e6, flops / best, reps);
                    }
                }
            }
        }
    }

    static MemorySegment random(Arena arena, long n, long seed) {
        MemorySegment s = arena.allocate(n * 4, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }
}

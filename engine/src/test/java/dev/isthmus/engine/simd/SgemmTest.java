package dev.isthmus.engine.simd;

import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The blocked SGEMM (serial and split over the pool) against its scalar triple-loop twin. */
class SgemmTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** (M, N, K) mixes of 1, 7, 15, 17, 33, 100, 1023, plus blocks past MC = 96, KC = 256 and NC = 1024. */
    static List<int[]> cases() {
        int[][] mnk = {
                {1, 1, 1}, {7, 15, 17}, {17, 7, 15}, {15, 17, 7}, {33, 100, 17}, {100, 33, 7}, {1, 1023, 33},
                {1023, 1, 17}, {7, 33, 1023}, {100, 100, 100}, {33, 1023, 15}, {1023, 17, 7}, {17, 1100, 300},
                {100, 7, 1},
        };
        List<int[]> all = new ArrayList<>();
        for (int[] c : mnk)
            for (int trans = 0; trans < 4; trans++) all.add(new int[] {c[0], c[1], c[2], trans});
        return all;
    }

    @ParameterizedTest(name = "M={0}[0] trans {0}[3]")
    @MethodSource("cases")
    void matchesScalarTwin(int[] c) {
        int m = c[0], n = c[1], k = c[2];
        boolean ta = (c[3] & 1) != 0, tb = (c[3] & 2) != 0;
        try (Arena arena = Arena.ofShared(); SimdBackend backend = new SimdBackend(2)) {
            int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
            long aOff = 11, bOff = 4, cOff = 7;
            MemorySegment a = random(arena, aOff + (long) (ta ? k : m) * lda, 1);
            MemorySegment b = random(arena, bOff + (long) (tb ? n : k) * ldb, 2);
            MemorySegment c0 = random(arena, cOff + (long) m * ldc, 3);
            MemorySegment expected = copy(arena, c0), serial = copy(arena, c0), parallel = copy(arena, c0);
            float alpha = 0.75f, beta = -0.5f;
            Sgemm.gemmScalar(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, expected, cOff, ldc);
            try (Sgemm.Workspace ws = new Sgemm.Workspace(m, n, k)) {
                Sgemm.gemm(ws, ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, serial, cOff, ldc);
            }
            try (Sgemm g = backend.sgemm(m, n, k)) {
                g.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, parallel, cOff, ldc);
            }
            String what = "sgemm " + m + "x" + n + "x" + k + (ta ? " A^T" : "") + (tb ? " B^T" : "");
            double tol = 2e-6 * k;
            assertClose(what + " serial", toArray(expected), toArray(serial), tol, 1e-5);
            assertClose(what + " parallel", toArray(expected), toArray(parallel), tol, 1e-5);
        }
    }

    @Test void betaZeroIgnoresNaNInC() {
        int m = 17, n = 33, k = 15;
        try (Arena arena = Arena.ofShared(); Sgemm.Workspace ws = new Sgemm.Workspace(m, n, k)) {
            MemorySegment a = random(arena, (long) m * k, 4), b = random(arena, (long) k * n, 5);
            MemorySegment expected = arena.allocate((long) m * n * 4, 64), actual = arena.allocate((long) m * n * 4, 64);
            for (long i = 0; i < (long) m * n; i++) actual.setAtIndex(F, i, Float.NaN);
            Sgemm.gemmScalar(false, false, m, n, k, 2f, a, 0, k, b, 0, n, 0f, expected, 0, n);
            Sgemm.gemm(ws, false, false, m, n, k, 2f, a, 0, k, b, 0, n, 0f, actual, 0, n);
            assertClose("beta 0 over NaN", toArray(expected), toArray(actual), 1e-5, 1e-5);
            // alpha 0: C = beta C, and k = 0 the same
            Sgemm.gemm(ws, false, false, m, n, 0, 1f, a, 0, k, b, 0, n, 0.5f, actual, 0, n);
            for (long i = 0; i < (long) m * n; i++) expected.setAtIndex(F, i, 0.5f * expected.getAtIndex(F, i));
            assertClose("k 0 scales C by beta", toArray(expected), toArray(actual), 1e-6, 1e-6);
        }
    }

    @Test void rejectsBadLeadingDimensionAndShortSegment() {
        try (Arena arena = Arena.ofShared(); Sgemm.Workspace ws = new Sgemm.Workspace(8, 8, 8)) {
            MemorySegment s = arena.allocate(64 * 4, 64);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Sgemm.gemm(ws, false, false, 8, 8, 8, 1f, s, 0, 7, s, 0, 8, 0f, s, 0, 8));
            assertTrue(e.getMessage().contains("leading dimension of A is 7"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Sgemm.gemm(ws, false, false, 8, 8, 8, 1f, s, 1, 8, s, 0, 8, 0f, s, 0, 8));
            assertTrue(e.getMessage().contains("needs 260 bytes"), e.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> Sgemm.gemm(ws, false, false, 8, 300, 8, 1f, s, 0, 8, s, 0, 300, 0f, s, 0, 300));
        }
    }

    static MemorySegment random(Arena arena, long n, long seed) {
        float[] v = TestTensors.uniform(seed, Math.toIntExact(n), -1, 1);
        MemorySegment s = arena.allocate(n * 4, 64);
        MemorySegment.copy(v, 0, s, F, 0, v.length);
        return s;
    }

    static MemorySegment copy(Arena arena, MemorySegment s) {
        MemorySegment c = arena.allocate(s.byteSize(), 64);
        c.copyFrom(s);
        return c;
    }

    static float[] toArray(MemorySegment s) { return s.toArray(F); }
}

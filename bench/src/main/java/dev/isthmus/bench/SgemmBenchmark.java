package dev.isthmus.bench;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.engine.simd.Sgemm;
import dev.isthmus.engine.simd.SimdBackend;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Square SGEMM, C = A B, row-major, no transposition: the simd backend's packed Vector API
 * kernel against oneDNN's {@code dnnl_sgemm} called through the bindings, and a plain scalar
 * triple loop (only up to 512: it takes seconds beyond). GFLOP/s = 2 n^3 / time; ratios are
 * taken within one run ({@code SgemmReport} prints them). @Setup checks every implementation
 * against the scalar twin on the first rows before anything is measured.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class SgemmBenchmark {
    @Param({"256", "512", "1024", "2048"})
    public int n;

    @Param({"simd", "dnnl", "scalar"})
    public String impl;

    private Arena arena;
    private MemorySegment a, b, c;
    private SimdBackend simd;
    private Sgemm sgemm;

    @Setup(Level.Trial)
    public void setUp() {
        if (impl.equals("scalar") && n > 512) throw new IllegalArgumentException("scalar SGEMM is only run up to 512 (it takes seconds beyond)");
        arena = Arena.ofShared();
        a = random(n * n, 1);
        b = random(n * n, 2);
        c = arena.allocate((long) n * n * Float.BYTES, 64);
        if (impl.equals("simd")) {
            simd = new SimdBackend();
            sgemm = simd.sgemm(n, n, n);
        }
        NativeLibraries.dnnl();
        run();
        check();
    }

    private MemorySegment random(int count, long seed) {
        MemorySegment s = arena.allocate((long) count * Float.BYTES, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }

    /** The first 4 rows of C against the scalar specification (full K, so every kernel path is covered). */
    private void check() {
        int rows = Math.min(4, n);
        MemorySegment expected = arena.allocate((long) rows * n * Float.BYTES, 64);
        Sgemm.gemmScalar(false, false, rows, n, n, 1f, a, 0, n, b, 0, n, 0f, expected, 0, n);
        double worst = 0;
        for (int i = 0; i < rows * n; i++) {
            float e = expected.getAtIndex(ValueLayout.JAVA_FLOAT, i), g = c.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            worst = Math.max(worst, Math.abs(e - g) / (1 + Math.abs(e)));
        }
        if (worst > 1e-4) throw new IllegalStateException(impl + " SGEMM n=" + n + " differs from the scalar twin by " + worst);
    }

    @Benchmark
    public void gemm() {
        run();
    }

    private void run() {
        switch (impl) {
            case "simd" -> sgemm.gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
            case "dnnl" -> {
                int status = dnnl_h.dnnl_sgemm((byte) 'N', (byte) 'N', n, n, n, 1f, a, n, b, n, 0f, c, n);
                if (status != dnnl_h.dnnl_success()) throw new IllegalStateException("dnnl_sgemm returned " + status);
            }
            case "scalar" -> Sgemm.gemmScalar(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
            default -> throw new IllegalArgumentException("impl must be simd, dnnl or scalar, got " + impl);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (sgemm != null) sgemm.close();
        if (simd != null) simd.close();
        arena.close();
    }
}

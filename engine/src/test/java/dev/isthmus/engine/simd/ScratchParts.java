package dev.isthmus.engine.simd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** scratch: per-image parts of LeNet's convolutions. Not committed. */
public final class ScratchParts {
    public static void main(String[] a) {
        run("C1", 1, 32, 6, 28);
        run("C3", 6, 14, 16, 10);
    }

    static void run(String name, int ic, int is, int oc, int os) {
        int k = ic * 25, ohw = os * os, ihw = is * is;
        Im2col low = new Im2col(ic, is, is, os, os, 5, 5, 1, 1, 0, 0, 0, 0);
        Arena arena = Arena.ofShared();
        MemorySegment src = arena.allocate(64L * ic * ihw * 4, 64), col = arena.allocate((long) k * ohw * 4 + 64, 64);
        MemorySegment w = arena.allocate((long) oc * k * 4, 64), dst = arena.allocate((long) oc * ohw * 4, 64), dw = arena.allocate((long) oc * k * 4, 64);
        for (long i = 0; i < src.byteSize() / 4; i++) src.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (i % 7) * 0.1f);
        Sgemm.Workspace ws = new Sgemm.Workspace(Math.max(oc, k), Math.max(ohw, k), Math.max(k, Math.max(oc, ohw)));
        for (int rep = 0; rep < 5; rep++) {
            double tIm = time(() -> { for (int img = 0; img < 64; img++) low.im2col(col, src, (long) img * ic * ihw); });
            double tCol = time(() -> { for (int img = 0; img < 64; img++) low.col2im(src, (long) img * ic * ihw, col); });
            double tF = time(() -> { for (int img = 0; img < 64; img++) Sgemm.gemm(ws, false, false, oc, ohw, k, 1f, w, 0, k, col, 0, ohw, 0f, dst, 0, ohw); });
            double tD = time(() -> { for (int img = 0; img < 64; img++) Sgemm.gemm(ws, true, false, k, ohw, oc, 1f, w, 0, k, dst, 0, ohw, 0f, col, 0, ohw); });
            double tW = time(() -> { for (int img = 0; img < 64; img++) Sgemm.gemm(ws, false, true, oc, k, ohw, 1f, dst, 0, ohw, col, 0, ohw, 1f, dw, 0, k); });
            System.out.printf("%s x64 single thread: im2col %.0f µs, col2im %.0f µs, gemm fwd %.0f µs, gemm bwd_d %.0f µs, gemm bwd_w %.0f µs%n", name, tIm, tCol, tF, tD, tW);
        }
    }

    static double time(Runnable r) {
        double best = 1e18;
        for (int i = 0; i < 20; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e3);
        }
        return best;
    }
}

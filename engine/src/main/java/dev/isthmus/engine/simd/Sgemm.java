package dev.isthmus.engine.simd;

import dev.isthmus.engine.cpu.ThreadTeam;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import dev.isthmus.engine.cpu.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM over row-major memory segments, BLAS semantics:
 *
 * <pre>
 *   C (M, N) = alpha op(A) (M, K) . op(B) (K, N) + beta C      op(X) = X or X^T
 *   A: (M, K) with row stride lda, or (K, M) when transA;  B: (K, N) or (N, K) when transB
 *   C: (M, N) with row stride ldc; with beta == 0, C is not read (NaNs in it do not survive)
 * </pre>
 *
 * Offsets and leading dimensions count floats. The fast path is GotoBLAS/BLIS-shaped: B is
 * packed KC x NC into panels of NR columns, A MC x KC into panels of MR rows (zero padded,
 * so the micro-kernel always computes a full tile), and a register-blocked micro-kernel
 * keeps MR x NR of C in vector registers, one broadcast-FMA per row and vector per k.
 * Every tile leaves through a small buffer, edge tiles with masked vector stores. The tile is
 * derived from the species once: MR x 2 vectors, MR = 8 with 16 lanes (32 registers on
 * AVX-512), 6 otherwise (16 registers on AVX2). {@link #gemmScalar} is the plain triple-loop
 * twin: the specification, the test oracle and the lanes=0 path.
 *
 * <p>A {@link Workspace} holds one thread's packing buffers; {@link #gemm(Workspace, boolean,
 * boolean, int, int, int, float, MemorySegment, long, int, MemorySegment, long, int, float,
 * MemorySegment, long, int) gemm} is single-threaded; an {@code Sgemm} instance (made by
 * {@link SimdBackend#sgemm}) splits one product over the backend's pool.
 */
public final class Sgemm implements AutoCloseable {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int VL = S.length();
    private static final long VBYTES = VL * 4L;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Packed buffers are read at any float offset by the micro-kernel's broadcasts. */
    private static final ValueLayout.OfFloat FU = ValueLayout.JAVA_FLOAT_UNALIGNED;

    /**
     * Rows of the micro-tile. 8 x 2 vectors with 16 lanes: 16 accumulators, 2 B vectors and a
     * broadcast in AVX-512's 32 registers (measured faster than 6, 12 and 14 rows and than
     * 3-vector tiles here); 6 x 2 with fewer lanes, the classic AVX2 tile for 16 registers.
     */
    static final int MR = VL >= 16 ? 8 : 6;
    /** Vectors per row of the micro-tile. */
    static final int NV = 2;
    /** Columns of the micro-tile. */
    static final int NR = NV * VL;
    /** Depth of a packed block: an A micro-panel (MR x KC) stays in L1 while B streams from L2. */
    static final int KC = 256;
    /** Rows of a packed A block (L2). */
    static final int MC = roundUp(96, MR);
    /** Columns of a packed B block (KC x NC floats in L2). */
    static final int NC = roundUp(1024, NR);
    /** Products below this many flops run on the caller alone: waking the pool costs more. */
    private static final long PARALLEL_FLOPS = 1L << 21;

    private final ThreadTeam pool;
    private final int maxM, maxN, maxK;
    private final ScratchPool<Workspaces> scratch;

    Sgemm(ThreadTeam pool, int maxM, int maxN, int maxK) {
        this.pool = pool;
        this.maxM = dev.isthmus.engine.Checks.positive("sgemm max M", maxM);
        this.maxN = dev.isthmus.engine.Checks.positive("sgemm max N", maxN);
        this.maxK = dev.isthmus.engine.Checks.positive("sgemm max K", maxK);
        int threads = pool.threads();
        this.scratch = new ScratchPool<>(() -> new Workspaces(threads, maxM, maxN, maxK));
    }

    /** The micro-tile and blocking, for logs: "8x32 (8 rows x 2 vectors of 16 lanes), KC=256, ...". */
    public static String tile() {
        return MR + "x" + NR + " (" + MR + " rows x " + NV + " vectors of " + VL + " lanes), KC=" + KC + ", MC=" + MC + ", NC=" + NC;
    }

    /**
     * The product split over the backend's pool: by column blocks, or by row blocks when C is
     * tall; each task packs into its own workspace (the scalar twin is split the same way). Dimensions may not exceed the planned maxima.
     */
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                     float beta, MemorySegment c, long cOff, int ldc) {
        checkArgs(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m > maxM || n > maxN || k > maxK) {
            throw new IllegalArgumentException("sgemm planned for M, N, K <= " + maxM + ", " + maxN + ", " + maxK
                    + ", got " + m + ", " + n + ", " + k);
        }
        pool.checkOpen();
        int threads = pool.threads();
        int unitsN = (n + NR - 1) / NR, unitsM = (m + MR - 1) / MR;
        boolean small = 2L * m * n * k < PARALLEL_FLOPS;
        Workspaces set = scratch.take();
        try {
            if (small || threads == 1 || (unitsN < 2 && unitsM < 2)) {
                gemmSerial(set.each[0], transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            } else if (unitsN >= threads && (n >= m || unitsM < threads) || unitsN >= unitsM) {
                int tasks = Math.min(threads, unitsN);
                pool.run(tasks, t -> {
                    int j0 = ThreadTeam.split(unitsN, tasks, t) * NR, j1 = Math.min(n, ThreadTeam.split(unitsN, tasks, t + 1) * NR);
                    if (j1 <= j0) return;
                    gemmSerial(set.each[t], transA, transB, m, j1 - j0, k, alpha, a, aOff, lda,
                            b, bOff + (transB ? (long) j0 * ldb : j0), ldb, beta, c, cOff + j0, ldc);
                });
            } else {
                int tasks = Math.min(threads, unitsM);
                pool.run(tasks, t -> {
                    int i0 = ThreadTeam.split(unitsM, tasks, t) * MR, i1 = Math.min(m, ThreadTeam.split(unitsM, tasks, t + 1) * MR);
                    if (i1 <= i0) return;
                    gemmSerial(set.each[t], transA, transB, i1 - i0, n, k, alpha, a, aOff + (transA ? i0 : (long) i0 * lda), lda,
                            b, bOff, ldb, beta, c, cOff + (long) i0 * ldc, ldc);
                });
            }
        } finally {
            scratch.give(set);
        }
    }

    @Override public void close() { scratch.close(); }

    /** Single-threaded product with one thread's workspace: dispatches to the vector path or its scalar twin. */
    public static void gemm(Workspace ws, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                            float beta, MemorySegment c, long cOff, int ldc) {
        checkArgs(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        gemmSerial(ws, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** The dispatch without the argument checks (sub-products of a checked call). */
    private static void gemmSerial(Workspace ws, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                   MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                                   float beta, MemorySegment c, long cOff, int ldc) {
        if (Simd.VECTOR) {
            gemmVector(ws, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            gemmScalar(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /** The specification: one float sum per element of C, k in order. */
    public static void gemmScalar(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                                  float beta, MemorySegment c, long cOff, int ldc) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                float sum = 0;
                for (int p = 0; p < k; p++) {
                    float av = a.getAtIndex(F, aOff + (transA ? (long) p * lda + i : (long) i * lda + p));
                    float bv = b.getAtIndex(F, bOff + (transB ? (long) j * ldb + p : (long) p * ldb + j));
                    sum = Math.fma(av, bv, sum);
                }
                long at = cOff + (long) i * ldc + j;
                c.setAtIndex(F, at, beta == 0f ? alpha * sum : alpha * sum + beta * c.getAtIndex(F, at));
            }
    }

    /** The blocked vector path; the workspace must have been sized for at least these dimensions. */
    static void gemmVector(Workspace ws, boolean transA, boolean transB, int m, int n, int k, float alpha,
                           MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                           float beta, MemorySegment c, long cOff, int ldc) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) {
            scale(beta, c, cOff, ldc, m, n);
            return;
        }
        ws.require(m, n, k);
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                float betaBlock = pc == 0 ? beta : 1f;   // later depth blocks add to what the first wrote
                packB(ws.b, transB, b, bOff, ldb, pc, kc, jc, nc);
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    packA(ws.a, transA, a, aOff, lda, ic, mc, pc, kc);
                    long cBlock = cOff + (long) ic * ldc + jc;
                    for (int ir = 0; ir < mc; ir += MR) {
                        int rows = Math.min(MR, mc - ir);
                        for (int jr = 0; jr < nc; jr += NR) {
                            kernel(kc, ws.a, (long) ir * kc * 4, ws.b, (long) jr * kc * 4,
                                    c, cBlock + (long) ir * ldc + jr, ldc, alpha, betaBlock, rows, Math.min(NR, nc - jr), ws.tile);
                        }
                    }
                }
            }
        }
    }

    /** C = beta C (0 when beta is 0, whatever C held). */
    private static void scale(float beta, MemorySegment c, long cOff, int ldc, int m, int n) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                long at = cOff + (long) i * ldc + j;
                c.setAtIndex(F, at, beta == 0f ? 0f : beta * c.getAtIndex(F, at));
            }
    }

    /** Packs op(A)(ic .. ic+mc, pc .. pc+kc) as panels of MR rows: panel q, depth p, row r at q MR kc + p MR + r. */
    private static void packA(MemorySegment dst, boolean transA, MemorySegment a, long aOff, int lda,
                              int ic, int mc, int pc, int kc) {
        for (int i0 = 0; i0 < mc; i0 += MR) {
            int rows = Math.min(MR, mc - i0);
            long base = (long) i0 * kc;
            if (!transA) {
                for (int r = 0; r < rows; r++) {
                    long src = aOff + (long) (ic + i0 + r) * lda + pc;
                    for (int p = 0; p < kc; p++) dst.setAtIndex(F, base + (long) p * MR + r, a.getAtIndex(F, src + p));
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    long src = aOff + (long) (pc + p) * lda + ic + i0;
                    long d = base + (long) p * MR;
                    for (int r = 0; r < rows; r++) dst.setAtIndex(F, d + r, a.getAtIndex(F, src + r));
                }
            }
            for (int r = rows; r < MR; r++)   // zero rows: the kernel computes them and nobody reads them
                for (int p = 0; p < kc; p++) dst.setAtIndex(F, base + (long) p * MR + r, 0f);
        }
    }

    /** Packs op(B)(pc .. pc+kc, jc .. jc+nc) as panels of NR columns: panel q, depth p, column j at q NR kc + p NR + j. */
    private static void packB(MemorySegment dst, boolean transB, MemorySegment b, long bOff, int ldb,
                              int pc, int kc, int jc, int nc) {
        for (int j0 = 0; j0 < nc; j0 += NR) {
            int cols = Math.min(NR, nc - j0);
            long base = (long) j0 * kc;
            if (!transB && cols == NR) {
                for (int p = 0; p < kc; p++) {
                    long src = (bOff + (long) (pc + p) * ldb + jc + j0) * 4, d = (base + (long) p * NR) * 4;
                    for (int v = 0; v < NV; v++) {
                        FloatVector.fromMemorySegment(S, b, src + v * VBYTES, NATIVE).intoMemorySegment(dst, d + v * VBYTES, NATIVE);
                    }
                }
                continue;
            }
            if (!transB) {
                for (int p = 0; p < kc; p++) {
                    long src = bOff + (long) (pc + p) * ldb + jc + j0, d = base + (long) p * NR;
                    for (int j = 0; j < cols; j++) dst.setAtIndex(F, d + j, b.getAtIndex(F, src + j));
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    long src = bOff + (long) (jc + j0 + j) * ldb + pc;
                    for (int p = 0; p < kc; p++) dst.setAtIndex(F, base + (long) p * NR + j, b.getAtIndex(F, src + p));
                }
            }
            for (int p = 0; p < kc; p++)   // zero columns: computed, never stored
                for (int j = cols; j < NR; j++) dst.setAtIndex(F, base + (long) p * NR + j, 0f);
        }
    }

    /**
     * The buffered tile's valid rows x cols into C: C = alpha tile + beta C, not reading C when
     * beta is 0. Whole vectors where the columns fill them, a masked vector (the first
     * {@code cols mod VL} lanes) for the last part of an edge tile: no scalar loop, so a product
     * with few rows (LeNet's C1: 6 output channels in an 8-row tile) or few columns loses nothing
     * at its edges. The mask comes from {@code VectorMask.fromLong}, which C2 turns into a mask
     * register without allocating.
     */
    private static void store(MemorySegment tile, MemorySegment c, long cOff, int ldc, float alpha, float beta, int rows, int cols) {
        for (int v = 0; v < NV; v++) {
            int lanes = Math.min(VL, cols - v * VL);
            if (lanes <= 0) break;
            if (lanes == VL) {
                for (int r = 0; r < rows; r++) storeVector(tile, (r * (long) NV + v) * VBYTES, c, (cOff + (long) r * ldc + (long) v * VL) * 4, alpha, beta);
            } else {
                VectorMask<Float> m = VectorMask.fromLong(S, (1L << lanes) - 1);
                for (int r = 0; r < rows; r++) storeMasked(tile, (r * (long) NV + v) * VBYTES, c, (cOff + (long) r * ldc + (long) v * VL) * 4, alpha, beta, m);
            }
        }
    }

    private static void storeVector(MemorySegment tile, long tileByte, MemorySegment c, long byteOff, float alpha, float beta) {
        FloatVector acc = FloatVector.fromMemorySegment(S, tile, tileByte, NATIVE);
        FloatVector result;
        if (beta == 0f) {
            result = acc.mul(alpha);
        } else {
            FloatVector old = FloatVector.fromMemorySegment(S, c, byteOff, NATIVE);
            result = beta == 1f ? acc.fma(FloatVector.broadcast(S, alpha), old)
                    : acc.fma(FloatVector.broadcast(S, alpha), old.mul(beta));
        }
        result.intoMemorySegment(c, byteOff, NATIVE);
    }

    private static void storeMasked(MemorySegment tile, long tileByte, MemorySegment c, long byteOff, float alpha, float beta,
                                    VectorMask<Float> m) {
        FloatVector acc = FloatVector.fromMemorySegment(S, tile, tileByte, NATIVE);
        FloatVector result;
        if (beta == 0f) {
            result = acc.mul(alpha);
        } else {
            FloatVector old = FloatVector.fromMemorySegment(S, c, byteOff, NATIVE, m);
            result = beta == 1f ? acc.fma(FloatVector.broadcast(S, alpha), old)
                    : acc.fma(FloatVector.broadcast(S, alpha), old.mul(beta));
        }
        result.intoMemorySegment(c, byteOff, NATIVE, m);
    }

    private static void checkArgs(boolean transA, boolean transB, int m, int n, int k,
                                  MemorySegment a, long aOff, int lda, MemorySegment b, long bOff, int ldb,
                                  MemorySegment c, long cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("sgemm: M, N, K must be >= 0, got " + m + ", " + n + ", " + k);
        checkMatrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        checkMatrix("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        checkMatrix("C", c, cOff, ldc, m, n);
    }

    private static void checkMatrix(String name, MemorySegment s, long off, int ld, int rows, int cols) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("sgemm: leading dimension of " + name + " is " + ld + ", expected >= " + Math.max(1, cols)
                    + " for a " + rows + " x " + cols + " matrix");
        }
        if (rows == 0 || cols == 0) return;
        long last = off + (long) (rows - 1) * ld + cols;
        if (off < 0 || last * 4 > s.byteSize()) {
            throw new IllegalArgumentException("sgemm: " + name + " (" + rows + " x " + cols + ", ld " + ld + ", offset " + off
                    + ") needs " + last * 4 + " bytes, segment has " + s.byteSize());
        }
    }

    static int roundUp(int x, int multiple) { return (x + multiple - 1) / multiple * multiple; }

    /**
     * One thread's packing buffers, sized once for the largest product it will run: an A block
     * (MC x KC), a B block (KC x NC) and one edge tile, 64-byte aligned in a shared arena (why
     * shared: made by the planning thread, used by pool threads, freed by whoever closes).
     */
    public static final class Workspace implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final int mc, nc, kc;
        final MemorySegment a, b, tile;

        public Workspace(int maxM, int maxN, int maxK) {
            mc = roundUp(Math.min(MC, Math.max(1, maxM)), MR);
            nc = roundUp(Math.min(NC, Math.max(1, maxN)), NR);
            kc = Math.min(KC, Math.max(1, maxK));
            a = arena.allocate((long) mc * kc * 4, 64);
            b = arena.allocate((long) kc * nc * 4, 64);
            tile = arena.allocate((long) MR * NR * 4, 64);
        }

        void require(int m, int n, int k) {
            if (roundUp(Math.min(MC, m), MR) > mc || roundUp(Math.min(NC, n), NR) > nc || Math.min(KC, k) > kc) {
                throw new IllegalArgumentException("sgemm workspace sized for blocks of " + mc + " x " + nc + " x " + kc
                        + " is too small for M, N, K = " + m + ", " + n + ", " + k);
            }
        }

        @Override public void close() { arena.close(); }
    }

    /** One workspace per task of a parallel product. */
    private static final class Workspaces implements AutoCloseable {
        final Workspace[] each;

        Workspaces(int tasks, int maxM, int maxN, int maxK) {
            each = new Workspace[tasks];
            for (int t = 0; t < tasks; t++) each[t] = new Workspace(maxM, maxN, maxK);
        }

        @Override public void close() { for (Workspace w : each) w.close(); }
    }

    /** The micro-kernel for this species' tile (MR is a constant, so the JIT keeps one branch). */
    private static void kernel(int kc, MemorySegment ap, long aByte, MemorySegment bp, long bByte,
                               MemorySegment c, long cOff, int ldc, float alpha, float beta, int rows, int cols, MemorySegment tile) {
        if (MR == 8) {
            kernel8x2(kc, ap, aByte, bp, bByte, c, cOff, ldc, alpha, beta, rows, cols, tile);
        } else {
            kernel6x2(kc, ap, aByte, bp, bByte, c, cOff, ldc, alpha, beta, rows, cols, tile);
        }
    }

    /** The 8 x 2-vector tile: C(rows, cols) = alpha A-panel . B-panel + beta C, through the tile buffer and {@link #store}. */
    private static void kernel8x2(int kc, MemorySegment ap, long aByte, MemorySegment bp, long bByte,
                                  MemorySegment c, long cOff, int ldc, float alpha, float beta, int rows, int cols, MemorySegment tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++, aByte += 8 * 4, bByte += 2 * VBYTES) {
            FloatVector b0 = FloatVector.fromMemorySegment(S, bp, bByte, NATIVE);
            FloatVector b1 = FloatVector.fromMemorySegment(S, bp, bByte + 1 * VBYTES, NATIVE);
            FloatVector a = FloatVector.broadcast(S, ap.get(FU, aByte + 0));
            c00 = b0.fma(a, c00); c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 4));
            c10 = b0.fma(a, c10); c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 8));
            c20 = b0.fma(a, c20); c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 12));
            c30 = b0.fma(a, c30); c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 16));
            c40 = b0.fma(a, c40); c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 20));
            c50 = b0.fma(a, c50); c51 = b1.fma(a, c51);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 24));
            c60 = b0.fma(a, c60); c61 = b1.fma(a, c61);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 28));
            c70 = b0.fma(a, c70); c71 = b1.fma(a, c71);
        }
        // Through the tile buffer even for full tiles: passing a vector to a store method that C2 does
        // not inline (this method is too large for it) boxes it, 16 allocations per tile.
            c00.intoMemorySegment(tile, (0 * 2 + 0) * VBYTES, NATIVE); c01.intoMemorySegment(tile, (0 * 2 + 1) * VBYTES, NATIVE);
            c10.intoMemorySegment(tile, (1 * 2 + 0) * VBYTES, NATIVE); c11.intoMemorySegment(tile, (1 * 2 + 1) * VBYTES, NATIVE);
            c20.intoMemorySegment(tile, (2 * 2 + 0) * VBYTES, NATIVE); c21.intoMemorySegment(tile, (2 * 2 + 1) * VBYTES, NATIVE);
            c30.intoMemorySegment(tile, (3 * 2 + 0) * VBYTES, NATIVE); c31.intoMemorySegment(tile, (3 * 2 + 1) * VBYTES, NATIVE);
            c40.intoMemorySegment(tile, (4 * 2 + 0) * VBYTES, NATIVE); c41.intoMemorySegment(tile, (4 * 2 + 1) * VBYTES, NATIVE);
            c50.intoMemorySegment(tile, (5 * 2 + 0) * VBYTES, NATIVE); c51.intoMemorySegment(tile, (5 * 2 + 1) * VBYTES, NATIVE);
            c60.intoMemorySegment(tile, (6 * 2 + 0) * VBYTES, NATIVE); c61.intoMemorySegment(tile, (6 * 2 + 1) * VBYTES, NATIVE);
            c70.intoMemorySegment(tile, (7 * 2 + 0) * VBYTES, NATIVE); c71.intoMemorySegment(tile, (7 * 2 + 1) * VBYTES, NATIVE);
        store(tile, c, cOff, ldc, alpha, beta, rows, cols);
    }

    /** The 6 x 2-vector tile: C(rows, cols) = alpha A-panel . B-panel + beta C, through the tile buffer and {@link #store}. */
    private static void kernel6x2(int kc, MemorySegment ap, long aByte, MemorySegment bp, long bByte,
                                  MemorySegment c, long cOff, int ldc, float alpha, float beta, int rows, int cols, MemorySegment tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++, aByte += 6 * 4, bByte += 2 * VBYTES) {
            FloatVector b0 = FloatVector.fromMemorySegment(S, bp, bByte, NATIVE);
            FloatVector b1 = FloatVector.fromMemorySegment(S, bp, bByte + 1 * VBYTES, NATIVE);
            FloatVector a = FloatVector.broadcast(S, ap.get(FU, aByte + 0));
            c00 = b0.fma(a, c00); c01 = b1.fma(a, c01);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 4));
            c10 = b0.fma(a, c10); c11 = b1.fma(a, c11);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 8));
            c20 = b0.fma(a, c20); c21 = b1.fma(a, c21);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 12));
            c30 = b0.fma(a, c30); c31 = b1.fma(a, c31);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 16));
            c40 = b0.fma(a, c40); c41 = b1.fma(a, c41);
            a = FloatVector.broadcast(S, ap.get(FU, aByte + 20));
            c50 = b0.fma(a, c50); c51 = b1.fma(a, c51);
        }
        // Through the tile buffer even for full tiles: passing a vector to a store method that C2 does
        // not inline (this method is too large for it) boxes it, 16 allocations per tile.
            c00.intoMemorySegment(tile, (0 * 2 + 0) * VBYTES, NATIVE); c01.intoMemorySegment(tile, (0 * 2 + 1) * VBYTES, NATIVE);
            c10.intoMemorySegment(tile, (1 * 2 + 0) * VBYTES, NATIVE); c11.intoMemorySegment(tile, (1 * 2 + 1) * VBYTES, NATIVE);
            c20.intoMemorySegment(tile, (2 * 2 + 0) * VBYTES, NATIVE); c21.intoMemorySegment(tile, (2 * 2 + 1) * VBYTES, NATIVE);
            c30.intoMemorySegment(tile, (3 * 2 + 0) * VBYTES, NATIVE); c31.intoMemorySegment(tile, (3 * 2 + 1) * VBYTES, NATIVE);
            c40.intoMemorySegment(tile, (4 * 2 + 0) * VBYTES, NATIVE); c41.intoMemorySegment(tile, (4 * 2 + 1) * VBYTES, NATIVE);
            c50.intoMemorySegment(tile, (5 * 2 + 0) * VBYTES, NATIVE); c51.intoMemorySegment(tile, (5 * 2 + 1) * VBYTES, NATIVE);
        store(tile, c, cOff, ldc, alpha, beta, rows, cols);
    }

}

package dev.isthmus.engine.cpu;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * An {@link LrnPlan} on host tensors over {@link LrnKernels}. The work is cut into units of one
 * image and {@link LrnKernels#CHUNK} positions of its planes (all channels), split into
 * contiguous runs over a caller's {@link Runner} (the simd backend's pool) or run on the calling
 * thread. The backward recomputes the scales from src, so the workspace is 0 bytes: callers pass
 * null (a U8 tensor is accepted and ignored, as by the other backends).
 *
 * <p>The backward's scratch (r and t of one unit, {@link LrnKernels.Geometry#scratchFloats})
 * is one heap array per thread that runs this plan, made on its first backward: nothing
 * allocated per call, and concurrent calls never share it.
 *
 * <pre>
 *   src, dst, diffSrc, diffDst  (N, C, H, W) F32
 * </pre>
 */
public final class CpuLrnPlan implements LrnPlan {
    /** Runs {@code task.accept(t)} for every t in [0, tasks) and returns when all are done. */
    @FunctionalInterface
    public interface Runner {
        void run(int tasks, IntConsumer task);
    }

    private static final Runner CALLER = (tasks, task) -> {
        for (int t = 0; t < tasks; t++) task.accept(t);
    };

    private final LrnSpec spec;
    private final String op;
    private final Shape shape;
    private final LrnKernels.Geometry geometry;
    private final Runner runner;
    private final int tasks, chunks, units;
    private final ThreadLocal<float[]> scratch;

    /** On the calling thread only. */
    public CpuLrnPlan(LrnSpec spec) {
        this(spec, 1, CALLER);
    }

    /** Split into up to {@code threads} tasks run by {@code runner}. */
    public CpuLrnPlan(LrnSpec spec, int threads, Runner runner) {
        if (spec == null) throw new IllegalArgumentException("LRN spec is null");
        if (runner == null) throw new IllegalArgumentException("LRN runner is null");
        Checks.positive("LRN threads", threads);
        this.spec = spec;
        this.op = spec.toString();
        this.shape = spec.shape();
        this.geometry = new LrnKernels.Geometry(spec);
        this.runner = runner;
        int hw = spec.height() * spec.width();
        this.chunks = (hw + LrnKernels.CHUNK - 1) / LrnKernels.CHUNK;
        this.units = spec.batch() * chunks;
        long work = shape.elements() * spec.size();
        this.tasks = work < (1 << 16) ? 1 : Math.min(threads, units);   // a small LRN is not worth a wake-up
        this.scratch = ThreadLocal.withInitial(() -> new float[geometry.scratchFloats()]);
    }

    @Override public LrnSpec spec() { return spec; }

    @Override public long workspaceBytes() { return 0; }

    @Override public void forwardTraining(Tensor dst, Tensor workspace, Tensor src) {
        Checks.optionalWorkspace(op, workspace, 0);
        forwardInference(dst, src);
    }

    @Override public void forwardInference(Tensor dst, Tensor src) {
        Checks.tensor(op, "dst", dst, shape, DType.F32);
        Checks.tensor(op, "src", src, shape, DType.F32);
        MemorySegment d = dst.segment(), s = src.segment();
        int hw = spec.height() * spec.width();
        runner.run(tasks, t -> {
            for (int u = split(t), end = split(t + 1); u < end; u++) {
                int p0 = (u % chunks) * LrnKernels.CHUNK;
                LrnKernels.forward(d, s, geometry, u / chunks, p0, Math.min(hw, p0 + LrnKernels.CHUNK));
            }
        });
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor src, Tensor workspace) {
        Checks.tensor(op, "diffSrc", diffSrc, shape, DType.F32);
        Checks.tensor(op, "diffDst", diffDst, shape, DType.F32);
        Checks.tensor(op, "src", src, shape, DType.F32);
        Checks.optionalWorkspace(op, workspace, 0);
        MemorySegment ds = diffSrc.segment(), dd = diffDst.segment(), s = src.segment();
        int hw = spec.height() * spec.width();
        runner.run(tasks, t -> {
            float[] buffer = scratch.get();
            for (int u = split(t), end = split(t + 1); u < end; u++) {
                int p0 = (u % chunks) * LrnKernels.CHUNK;
                LrnKernels.backward(ds, dd, s, geometry, u / chunks, p0, Math.min(hw, p0 + LrnKernels.CHUNK), buffer);
            }
        });
    }

    /** The first unit of task t: [0, units) in contiguous runs as even as possible. */
    private int split(int t) { return (int) ((long) units * t / tasks); }

    @Override public void close() {}

    @Override public String toString() { return "cpu " + op + (tasks > 1 ? " in " + tasks + " tasks" : ""); }
}

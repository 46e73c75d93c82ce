package dev.isthmus.engine.simd;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Checks;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Device;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.cpu.CpuDropoutPlan;
import dev.isthmus.engine.cpu.CpuEltwisePlan;
import dev.isthmus.engine.cpu.CpuLrnPlan;
import dev.isthmus.engine.cpu.CpuOptimizerPlan;
import dev.isthmus.engine.cpu.ParallelArrays;
import dev.isthmus.engine.cpu.ThreadTeam;
import dev.isthmus.engine.cpu.CpuSoftmaxCrossEntropyPlan;
import dev.isthmus.engine.cpu.Simd;

/**
 * Every op in pure Java with the Vector API on host tensors: no native code. Convolution
 * and linear layers are SGEMMs ({@link Sgemm}); eltwise, LRN, dropout, softmax cross-entropy,
 * optimizers, axpy and fill are the {@code cpu} package's kernels (LRN, and the element-wise ones
 * on large tensors, split over the team). The SIMD width is {@link Simd}'s, chosen once per JVM
 * ({@code -Disthmus.simd.lanes=0} sends every kernel to its scalar twin).
 *
 * <p>The backend owns one fixed {@link ThreadTeam}, sized to the available processors unless
 * given, shut down by {@link #close()}; plans split their work over it and start no threads.
 * Close plans before the backend.
 */
public final class SimdBackend implements Backend {
    private final ThreadTeam pool;
    private final ParallelArrays arrays;

    /** A backend with one thread per available processor. */
    public SimdBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** A backend whose ops use {@code threads} threads (the caller's included). */
    public SimdBackend(int threads) {
        this.pool = new ThreadTeam(Checks.positive("simd threads", threads), "isthmus-simd");
        this.arrays = new ParallelArrays(pool);
    }

    @Override public BackendKind kind() { return BackendKind.SIMD; }

    @Override public Device device() { return Device.CPU; }

    @Override public Tensor allocate(Shape shape, DType dtype) { return Tensor.allocate(shape, dtype); }

    @Override public Conv2dPlan conv2d(Conv2dSpec spec) { return new SimdConv2dPlan(this, require(spec), pool); }

    @Override public Pool2dPlan pool2d(Pool2dSpec spec) { return new SimdPool2dPlan(require(spec), pool); }

    @Override public EltwisePlan eltwise(EltwiseKind kind, long elements) { return new CpuEltwisePlan(kind, elements, pool); }

    @Override public LinearPlan linear(LinearSpec spec) { return new SimdLinearPlan(require(spec), pool); }

    @Override public SoftmaxCrossEntropyPlan softmaxCrossEntropy(int batch, int classes) {
        return new CpuSoftmaxCrossEntropyPlan(batch, classes);
    }

    @Override public OptimizerPlan optimizer(OptimizerSpec spec, long elements) { return new CpuOptimizerPlan(spec, elements, pool); }

    @Override public LrnPlan lrn(LrnSpec spec) { return new CpuLrnPlan(require(spec), pool.threads(), pool::run); }

    /** Single-threaded: AlexNet's dropouts are 32 x 4096 values, a fraction of a millisecond. */
    @Override public DropoutPlan dropout(long elements, float p) { return new CpuDropoutPlan(elements, p); }

    /**
     * A general SGEMM planned for products up to maxM x maxN x maxK, split over this backend's
     * pool; the caller closes it (before the backend).
     */
    public Sgemm sgemm(int maxM, int maxN, int maxK) { return new Sgemm(pool, maxM, maxN, maxK); }

    /** Threads an op may use, the caller's included. */
    public int threads() { return pool.threads(); }

    @Override public void axpy(float alpha, Tensor x, Tensor y) { arrays.axpy(alpha, x, y); }

    @Override public void fill(Tensor t, float value) { arrays.fill(t, value); }

    @Override public String describe() {
        return "simd: " + Simd.describe() + ", sgemm tile " + Sgemm.tile() + ", " + pool.threads() + " threads";
    }

    @Override public void close() { pool.close(); }

    private static <T> T require(T spec) {
        if (spec == null) throw new IllegalArgumentException("spec is null");
        return spec;
    }

    @Override public String toString() { return "SimdBackend(" + pool.threads() + " threads)"; }
}

package dev.isthmus.engine.dnnl;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.bindings.omp.omp_h;
import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Checks;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Device;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Lifetime;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
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
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The {@code dnnl} backend: Intel oneDNN on the CPU through FFM. Convolution, pooling, linear
 * layers and LRN are oneDNN primitives ({@link DnnlConv2dPlan}, {@link DnnlPool2dPlan},
 * {@link DnnlLinearPlan}, {@link DnnlLrnPlan}); element-wise activations, dropout, softmax with
 * cross-entropy, optimizer updates, axpy and fill are the Vector API kernels of the {@code cpu}
 * package, split over a {@link ThreadTeam} (as many threads as OpenMP's) for tensors of at least
 * {@link ThreadTeam#MIN_PARALLEL} elements. Tensors are host memory in plain layout; oneDNN threads
 * with its OpenMP pool.
 *
 * <p>One CPU engine per backend. oneDNN streams are not thread-safe, so a plan leases a stream for
 * each execution from a {@link StreamPool} and gives it back at once: the pool grows to the
 * largest number of concurrent executions seen, never to the number of threads that ever called
 * (a thread-bound stream per caller leaked one per short-lived or virtual thread). Plans still open
 * when the backend closes are closed with it.
 *
 * <p>Thread-safety: plans may be created and executed from any number of threads; each plan
 * keeps its own pool of per-call contexts.
 */
public final class DnnlBackend implements Backend {
    private final Dnnl.Engine engine;
    private final StreamPool streams;
    private final Set<DnnlOpPlan> plans = ConcurrentHashMap.newKeySet();
    private final LongAdder reorders = new LongAdder();
    private volatile boolean closed;
    /** Named by a plan's exception when the backend closed it; plans wait for their own calls. */
    private final Lifetime lifetime = new Lifetime("dnnl backend");
    /** The Java kernels' threads (as many as oneDNN's OpenMP threads), for large element-wise ops. */
    private final ThreadTeam team;
    private final ParallelArrays arrays;

    /**
     * Loads oneDNN (see {@link NativeLibraries#dnnl()}) and creates a CPU engine.
     *
     * @throws IllegalStateException with the loader's message (every place tried) when oneDNN cannot load
     */
    public DnnlBackend() {
        try {
            NativeLibraries.dnnl();
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("the dnnl backend cannot run here: " + e.getMessage(), e);
        }
        this.engine = Dnnl.Engine.cpu();
        this.streams = new StreamPool(engine);
        this.team = new ThreadTeam(Math.max(1, omp_h.omp_get_max_threads()), "isthmus-dnnl-kernels");
        this.arrays = new ParallelArrays(team);
    }

    @Override public BackendKind kind() { return BackendKind.DNNL; }

    @Override public Device device() { return Device.CPU; }

    @Override public Tensor allocate(Shape shape, DType dtype) {
        checkOpen();
        return Tensor.allocate(shape, dtype);
    }

    @Override public DnnlConv2dPlan conv2d(Conv2dSpec spec) {
        checkOpen();
        return register(new DnnlConv2dPlan(this, spec));
    }

    @Override public DnnlPool2dPlan pool2d(Pool2dSpec spec) {
        checkOpen();
        return register(new DnnlPool2dPlan(this, spec));
    }

    @Override public DnnlLinearPlan linear(LinearSpec spec) {
        checkOpen();
        return register(new DnnlLinearPlan(this, spec));
    }

    /**
     * The cpu package's Vector API kernel (on the team for large tensors). oneDNN's eltwise (OpenMP) was about 2x faster on
     * LeNet's C1 output with two idle cores but up to 40x slower on shared ones (DnnlEltwiseTimingTest), and
     * has no scaled tanh: not clearly faster, so not used.
     */
    @Override public EltwisePlan eltwise(EltwiseKind kind, long elements) {
        checkOpen();
        return new CpuEltwisePlan(kind, elements, team);
    }

    /**
     * oneDNN's LRN ({@link DnnlLrnPlan}) for odd sizes from 3 (AlexNet's 5). oneDNN's window is symmetric, one
     * channel short of {@link LrnSpec}'s for an even size, and size 1 can crash its kernel generator, so those
     * sizes get the cpu package's kernel, single-threaded.
     */
    @Override public LrnPlan lrn(LrnSpec spec) {
        checkOpen();
        if (spec == null) throw new IllegalArgumentException("spec is null");
        return spec.size() % 2 == 1 && spec.size() > 1 ? register(new DnnlLrnPlan(this, spec)) : new CpuLrnPlan(spec);
    }

    /** The cpu package's kernel: oneDNN has no dropout (its mask would not be {@link DropoutPlan#keep}'s anyway). */
    @Override public DropoutPlan dropout(long elements, float p) {
        checkOpen();
        return new CpuDropoutPlan(elements, p);
    }

    @Override public SoftmaxCrossEntropyPlan softmaxCrossEntropy(int batch, int classes) {
        checkOpen();
        return new CpuSoftmaxCrossEntropyPlan(batch, classes);
    }

    @Override public OptimizerPlan optimizer(OptimizerSpec spec, long elements) {
        checkOpen();
        return new CpuOptimizerPlan(spec, elements, team);
    }

    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        checkOpen();
        arrays.axpy(alpha, x, y);
    }

    @Override public void fill(Tensor t, float value) {
        checkOpen();
        arrays.fill(t, value);
    }

    /** "oneDNN 3.13.0 (git ...), ISA avx512_core_amx, OpenMP with 2 threads". */
    @Override public String describe() {
        return "oneDNN " + Dnnl.version() + ", ISA " + Dnnl.effectiveCpuIsa() + ", " + Dnnl.cpuRuntime()
                + ("OpenMP".equals(Dnnl.cpuRuntime()) ? " with " + omp_h.omp_get_max_threads() + " threads" : "");
    }

    /** Reorders executed by all of this backend's plans: the cost of plain user layouts. */
    public long reorderCount() { return reorders.sum(); }

    // ---- for the plans ---------------------------------------------------------------------

    Dnnl.Engine engine() { return engine; }

    /** A stream for one execution; give it back with {@link #release(StreamPool.Lease)} in a finally. */
    StreamPool.Lease acquireStream() {
        checkOpen();
        return streams.acquire();
    }

    Lifetime lifetime() { return lifetime; }

    void release(StreamPool.Lease lease) { streams.release(lease); }

    /** oneDNN streams created so far: the largest number of concurrent executions seen (for leak tests). */
    public int streamCount() { return streams.size(); }

    void countReorders(int n) { reorders.add(n); }

    void forget(DnnlOpPlan plan) { plans.remove(plan); }

    private <P extends DnnlOpPlan> P register(P plan) {
        plans.add(plan);
        return plan;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the dnnl backend is closed");
    }

    /** Closes the plans still open, the streams, then the engine. Idempotent. */
    @Override public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        lifetime.close();
        for (DnnlOpPlan p : List.copyOf(plans)) p.close();
        streams.close();
        engine.close();
        team.close();
    }

    @Override public String toString() { return "dnnl backend (" + describe() + ")"; }
}

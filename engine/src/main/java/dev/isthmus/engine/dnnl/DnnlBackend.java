package dev.isthmus.engine.dnnl;

import static dev.isthmus.bindings.dnnl.dnnl_h.*;

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
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.Lifetime;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.PlanHints;
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
import java.util.ArrayList;
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
 * {@link ThreadTeam#MIN_PARALLEL} elements. Tensors are host memory, plain or in a layout a plan
 * reported ({@link DnnlLayout}, interned here: {@link #allocate(Shape, DType, Layout)}); oneDNN threads
 * with its OpenMP pool. Plans created for inference ({@link PlanHints}) hold the forward only and let
 * layouts travel from plan to plan.
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
    private final List<DnnlLayout> layouts = new ArrayList<>();   // interned; their descriptors closed with the backend
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

    /** Plain, or a layout one of this backend's plans reported ({@link DnnlLayout}); zeroed, so padding is zero. */
    @Override public Tensor allocate(Shape shape, DType dtype, Layout layout) {
        checkOpen();
        if (!layout.isPlain() && !(layout instanceof DnnlLayout)) {
            throw new IllegalArgumentException("the dnnl backend cannot allocate in layout " + layout.name());
        }
        return Tensor.allocate(shape, dtype, layout);
    }

    /**
     * The layout of {@code md}: {@link Layout#PLAIN} when it is row-major, else this backend's interned
     * {@link DnnlLayout} (one descriptor per distinct layout, kept until the backend closes).
     */
    Layout layoutOf(Dnnl.MemoryDesc md) {
        int n = md.ndims();
        if (n >= 1 && n <= PLAIN_TAGS.length) {
            try (Dnnl.MemoryDesc plain = Dnnl.MemoryDesc.of(dimsOf(md, n), dnnl_f32(), PLAIN_TAGS[n - 1])) {
                if (plain.sameAs(md)) return Layout.PLAIN;
            }
        }
        synchronized (layouts) {
            for (DnnlLayout l : layouts) if (l.md().sameAs(md)) return l;
            DnnlLayout l = DnnlLayout.of(Dnnl.MemoryDesc.copyOf(md.handle()));
            layouts.add(l);
            return l;
        }
    }

    private static final int[] PLAIN_TAGS = {dnnl_a(), dnnl_ab(), dnnl_abc(), dnnl_abcd(), dnnl_abcde()};

    private static long[] dimsOf(Dnnl.MemoryDesc md, int n) {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment slot = a.allocate(java.lang.foreign.ValueLayout.ADDRESS);
            Dnnl.check(dnnl_memory_desc_query(md.handle(), dnnl_query_dims(), slot), "dnnl_memory_desc_query", "dims");
            return java.util.Arrays.copyOf(slot.get(java.lang.foreign.ValueLayout.ADDRESS, 0)
                    .reinterpret(8L * Dnnl.MAX_NDIMS).toArray(java.lang.foreign.ValueLayout.JAVA_LONG), n);
        }
    }

    @Override public DnnlConv2dPlan conv2d(Conv2dSpec spec) { return conv2d(spec, PlanHints.TRAINING); }

    /** For inference: a {@code forward_inference} primitive and nothing for backward. */
    @Override public DnnlConv2dPlan conv2d(Conv2dSpec spec, PlanHints hints) {
        checkOpen();
        return register(new DnnlConv2dPlan(this, spec, hints, false));
    }

    @Override public DnnlPool2dPlan pool2d(Pool2dSpec spec) { return pool2d(spec, PlanHints.TRAINING); }

    /** For inference: no workspace (max pooling) and no backward primitive. */
    @Override public DnnlPool2dPlan pool2d(Pool2dSpec spec, PlanHints hints) {
        checkOpen();
        return register(new DnnlPool2dPlan(this, spec, hints));
    }

    @Override public DnnlLinearPlan linear(LinearSpec spec) { return linear(spec, PlanHints.TRAINING); }

    @Override public DnnlLinearPlan linear(LinearSpec spec, PlanHints hints) {
        checkOpen();
        return register(new DnnlLinearPlan(this, spec, hints));
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
    @Override public LrnPlan lrn(LrnSpec spec) { return lrn(spec, PlanHints.TRAINING); }

    @Override public LrnPlan lrn(LrnSpec spec, PlanHints hints) {
        checkOpen();
        if (spec == null) throw new IllegalArgumentException("spec is null");
        return spec.size() % 2 == 1 && spec.size() > 1
                ? register(new DnnlLrnPlan(this, spec, DnnlLrnPlan.Layout.CHOSEN, hints)) : new CpuLrnPlan(spec);
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
        synchronized (layouts) {
            for (DnnlLayout l : layouts) l.md().close();
            layouts.clear();
        }
        engine.close();
        team.close();
    }

    @Override public String toString() { return "dnnl backend (" + describe() + ")"; }
}

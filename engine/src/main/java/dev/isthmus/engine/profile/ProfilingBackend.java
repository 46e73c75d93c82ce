package dev.isthmus.engine.profile;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Device;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.PlanHints;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;

/**
 * A backend that wraps another and times every plan execution, fill and axpy into an
 * {@link OpProfile}, emitting a {@link PlanExecutionEvent} per call while a JDK Flight Recorder
 * recording asks for it. It is a decorator: the normal path never goes through it, so unprofiled
 * code pays nothing, and no plan of any backend knows about profiling.
 *
 * <pre>
 *   try (var profiled = new ProfilingBackend(Backends.create(BackendKind.DNNL))) {
 *       model.compile(profiled, 64, input, Mode.TRAIN, seed);   // each layer's plans are labelled
 *       ... steps ...
 *       profiled.profile().rows();                              // (layer, op, pass) -> calls, time
 *   }
 * </pre>
 *
 * <p>Layer names reach the rows through {@link Backend#forLayer}: a model compiles each layer
 * against {@code backend.forLayer(name)}, which here is a view sharing the wrapped backend and
 * the profile; other backends return themselves. Closing this backend closes the wrapped one;
 * closing a layer view closes nothing. With {@code -Disthmus.profile=jfr}, {@link #wrapIfRequested}
 * (called by {@code Backends.create}) wraps every backend, so any program can be recorded.
 */
public final class ProfilingBackend implements Backend {
    /** The system property that makes {@link #wrapIfRequested} wrap: {@code -Disthmus.profile=jfr}. */
    public static final String PROPERTY = "isthmus.profile";

    private final Backend inner;
    private final Probe probe;
    private final String layer;      // "" outside any layer
    private final boolean owner;     // the root view closes the wrapped backend
    private volatile OpProfile.Row fillRow, axpyRow;

    /** Wraps {@code inner}, which this backend then owns and closes. */
    public ProfilingBackend(Backend inner) {
        this(requireInner(inner), new Probe(inner), "", true);
    }

    private ProfilingBackend(Backend inner, Probe probe, String layer, boolean owner) {
        this.inner = inner;
        this.probe = probe;
        this.layer = layer;
        this.owner = owner;
    }

    private static Backend requireInner(Backend inner) {
        if (inner == null) throw new IllegalArgumentException("the backend to profile is null");
        if (inner instanceof ProfilingBackend) throw new IllegalArgumentException("the backend is already profiled: " + inner);
        return inner;
    }

    /**
     * {@code backend} wrapped when the system property {@value #PROPERTY} is {@code jfr} (so that a
     * JFR recording sees every plan execution), else {@code backend} itself; any other value throws.
     */
    public static Backend wrapIfRequested(Backend backend) {
        String mode = System.getProperty(PROPERTY);
        if (mode == null || mode.isEmpty()) return backend;
        if (!mode.equals("jfr")) {
            backend.close();
            throw new IllegalArgumentException("-D" + PROPERTY + " must be 'jfr' (or unset), got '" + mode + "'");
        }
        return new ProfilingBackend(backend);
    }

    /** What every plan made through this backend (and its layer views) measured so far. */
    public OpProfile profile() { return probe.profile; }

    /** The wrapped backend. */
    public Backend inner() { return inner; }

    /** The layer this view labels its plans with ("" for the root). */
    public String layer() { return layer; }

    @Override public Backend forLayer(String name) {
        return new ProfilingBackend(inner, probe, name == null ? "" : name, false);
    }

    @Override public BackendKind kind() { return inner.kind(); }

    @Override public Device device() { return inner.device(); }

    @Override public Tensor allocate(Shape shape, DType dtype) { return inner.allocate(shape, dtype); }

    @Override public Tensor allocate(Shape shape, DType dtype, Layout layout) { return inner.allocate(shape, dtype, layout); }

    @Override public Conv2dPlan conv2d(Conv2dSpec spec) { return new ProfiledPlans.Conv2d(inner.conv2d(spec), probe, layer); }

    // The hinted factories pass the hints on, so a profiled inference runs the plans (and layouts) it runs unprofiled.
    @Override public Conv2dPlan conv2d(Conv2dSpec spec, PlanHints hints) {
        return new ProfiledPlans.Conv2d(inner.conv2d(spec, hints), probe, layer);
    }

    @Override public Pool2dPlan pool2d(Pool2dSpec spec, PlanHints hints) {
        return new ProfiledPlans.Pool2d(inner.pool2d(spec, hints), probe, layer);
    }

    @Override public LinearPlan linear(LinearSpec spec, PlanHints hints) {
        return new ProfiledPlans.Linear(inner.linear(spec, hints), probe, layer);
    }

    @Override public LrnPlan lrn(LrnSpec spec, PlanHints hints) { return new ProfiledPlans.Lrn(inner.lrn(spec, hints), probe, layer); }

    @Override public Pool2dPlan pool2d(Pool2dSpec spec) { return new ProfiledPlans.Pool2d(inner.pool2d(spec), probe, layer); }

    @Override public EltwisePlan eltwise(EltwiseKind kind, long elements) {
        return new ProfiledPlans.Eltwise(inner.eltwise(kind, elements), probe, layer);
    }

    @Override public LinearPlan linear(LinearSpec spec) { return new ProfiledPlans.Linear(inner.linear(spec), probe, layer); }

    @Override public SoftmaxCrossEntropyPlan softmaxCrossEntropy(int batch, int classes) {
        return new ProfiledPlans.SoftmaxCrossEntropy(inner.softmaxCrossEntropy(batch, classes), probe, layer);
    }

    @Override public OptimizerPlan optimizer(OptimizerSpec spec, long elements) {
        return new ProfiledPlans.Optimizer(inner.optimizer(spec, elements), probe, layer);
    }

    @Override public LrnPlan lrn(LrnSpec spec) { return new ProfiledPlans.Lrn(inner.lrn(spec), probe, layer); }

    @Override public DropoutPlan dropout(long elements, float p) {
        return new ProfiledPlans.Dropout(inner.dropout(elements, p), probe, layer);
    }

    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        OpProfile.Row row = axpyRow;
        if (row == null) row = axpyRow = probe.profile.row(layer, "axpy", "forward", probe.backend, "axpy", 0);
        PlanExecutionEvent e = new PlanExecutionEvent();
        long t0 = probe.start(e), r0 = probe.reorders();
        inner.axpy(alpha, x, y);
        probe.done(row, e, t0, r0, 2 * Probe.bytes(y) + Probe.bytes(x));
    }

    @Override public void fill(Tensor t, float value) {
        OpProfile.Row row = fillRow;
        if (row == null) row = fillRow = probe.profile.row(layer, "fill", "forward", probe.backend, "fill", 0);
        PlanExecutionEvent e = new PlanExecutionEvent();
        long t0 = probe.start(e), r0 = probe.reorders();
        inner.fill(t, value);
        probe.done(row, e, t0, r0, Probe.bytes(t));
    }

    @Override public String describe() { return inner.describe() + " (profiled)"; }

    /** The root closes the wrapped backend; a layer view closes nothing. */
    @Override public void close() {
        if (owner) inner.close();
    }

    @Override public String toString() { return "profiled " + inner + (layer.isEmpty() ? "" : " [" + layer + "]"); }
}

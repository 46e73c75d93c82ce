package dev.isthmus.engine;

/**
 * A device's factory of op plans. Every op is planned once for fixed shapes and then
 * executed many times; plans own their native resources and must be closed before the
 * backend. Tensors a backend allocates live on its device.
 *
 * <p>Create one with {@link Backends#create(BackendKind)}.
 */
public interface Backend extends AutoCloseable {
    BackendKind kind();

    Device device();

    /** A zero-filled tensor on this backend's device; the caller closes it. */
    Tensor allocate(Shape shape, DType dtype);

    /**
     * A zero-filled tensor in {@code layout}: plain, or one of this backend's own layouts (what its plans
     * report for their arguments). A layout of another backend is an error naming it.
     */
    default Tensor allocate(Shape shape, DType dtype, Layout layout) {
        if (!layout.isPlain()) {
            throw new IllegalArgumentException(kind() + " backend keeps tensors in plain layout only, asked for " + layout.name());
        }
        return allocate(shape, dtype);
    }

    /** A training plan: forward, backward-data and backward-weights. */
    Conv2dPlan conv2d(Conv2dSpec spec);

    /** A plan for {@code hints}' propagation; backends with one kind of plan return {@link #conv2d(Conv2dSpec)}'s. */
    default Conv2dPlan conv2d(Conv2dSpec spec, PlanHints hints) { return conv2d(spec); }

    Pool2dPlan pool2d(Pool2dSpec spec);

    /** Like {@link #conv2d(Conv2dSpec, PlanHints)}: an inference plan has no workspace and no backward. */
    default Pool2dPlan pool2d(Pool2dSpec spec, PlanHints hints) { return pool2d(spec); }

    EltwisePlan eltwise(EltwiseKind kind, long elements);

    LinearPlan linear(LinearSpec spec);

    default LinearPlan linear(LinearSpec spec, PlanHints hints) { return linear(spec); }

    SoftmaxCrossEntropyPlan softmaxCrossEntropy(int batch, int classes);

    OptimizerPlan optimizer(OptimizerSpec spec, long elements);

    /** Local response normalisation across channels, planned for the spec's shape. */
    LrnPlan lrn(LrnSpec spec);

    default LrnPlan lrn(LrnSpec spec, PlanHints hints) { return lrn(spec); }

    /** Inverted dropout with probability {@code p} in [0, 1) over a fixed number of elements. */
    DropoutPlan dropout(long elements, float p);

    /** y += alpha x, element-wise over tensors of equal element count. */
    void axpy(float alpha, Tensor x, Tensor y);

    /** Sets every element of a float tensor to {@code value}. */
    void fill(Tensor t, float value);

    /**
     * This backend with the plans made through it attributed to the model layer {@code layer}: a
     * profiler's label ({@link dev.isthmus.engine.profile.ProfilingBackend}). Models compile each
     * layer against it; every other backend returns itself, so the label costs nothing.
     */
    default Backend forLayer(String layer) { return this; }

    /** One line on what runs underneath (library version, ISA, threads), for logs and {@code isthmus info}. */
    String describe();

    @Override void close();
}

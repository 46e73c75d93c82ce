package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.Layout;
import dev.isthmus.engine.PlanHints;
import dev.isthmus.engine.ReorderReport;
import dev.isthmus.engine.Propagation;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * What a layer gets when its model compiles it: the backend, the batch size, its input and
 * output shapes, whether it will train, its parameters, and an allocator whose buffers the
 * model owns and frees. Built by {@link Sequential}; layers only read it.
 */
public final class CompileContext {
    private final Backend backend;
    private final long seed;
    private final int index;
    private final int batch;
    private final Shape input;
    private final Shape output;
    private final boolean training;
    private final List<Parameter> parameters;
    private final GradientSink gradients;
    private final List<AutoCloseable> owned;
    private final EltwiseKind fuseActivation;
    private final boolean fusedIntoPrevious;
    private final MemoryReport.Counter bytes;
    private final Layout inputLayout;
    private final boolean plainOutput;
    private final boolean keepWeights;   // false: parameters live in a slab shared with other compiles
    private Layout outputLayout = Layout.PLAIN;   // what the layer declared with allocateOutput or passThrough

    /** What a buffer a layer allocates is for, so that a model can say what its memory holds. */
    public enum Buffer {
        /** The output of a forward pass (also needed for inference). */
        ACTIVATION,
        /** Kept by a training forward for its backward (max pooling's indices, LRN's, dropout's mask). */
        WORKSPACE,
        /** A gradient with respect to a layer's input or pre-activation output: training only. */
        BACKWARD,
        /** Parameters kept in a plan's layout (inference), beside the plain slab. */
        WEIGHTS
    }

    CompileContext(Backend backend, long seed, int index, int batch, Shape input, Shape output, boolean training,
                   List<Parameter> parameters, GradientSink gradients, List<AutoCloseable> owned,
                   EltwiseKind fuseActivation, boolean fusedIntoPrevious, MemoryReport.Counter bytes,
                   Layout inputLayout, boolean plainOutput, boolean keepWeights) {
        this.keepWeights = keepWeights;
        this.bytes = bytes;
        this.inputLayout = inputLayout;
        this.plainOutput = plainOutput;
        this.backend = backend;
        this.seed = seed;
        this.index = index;
        this.batch = batch;
        this.input = input;
        this.output = output;
        this.training = training;
        this.parameters = parameters;
        this.gradients = gradients;
        this.owned = owned;
        this.fuseActivation = fuseActivation;
        this.fusedIntoPrevious = fusedIntoPrevious;
    }

    public Backend backend() { return backend; }

    /** The seed the model was compiled with; layers with randomness per step ({@link Dropout}) derive theirs from it. */
    public long seed() { return seed; }

    /** This layer's position in its model, from 0. */
    public int index() { return index; }

    public int batch() { return batch; }

    /** Per-sample input shape. */
    public Shape input() { return input; }

    /** Per-sample output shape. */
    public Shape output() { return output; }

    /** (N, input...) */
    public Shape batchedInput() { return input.prepend(batch); }

    /** (N, output...) */
    public Shape batchedOutput() { return output.prepend(batch); }

    /** True when compiled for training: gradients and workspaces exist. */
    public boolean training() { return training; }

    /**
     * How to ask the backend for this layer's plans: for training (plain tensors at every boundary), or for
     * inference only (no backward primitives), with src in the layout the previous layer wrote and dst in
     * the backend's choice unless the next consumer reads plain, and weights kept in the plan's layout
     * (the layer then calls {@link #keepParameterIn}).
     */
    public PlanHints hints() {
        if (training) return PlanHints.TRAINING;
        return PlanHints.of(Propagation.INFERENCE).withSrc(inputLayout).withPlainDst(plainOutput).withKeptWeights(keepWeights);
    }

    /** The layout this layer's input arrives in: plain, or the previous layer's plan's (inference only). */
    public Layout inputLayout() { return inputLayout; }

    /** Whether this layer's output must be plain: training, the model's output, or a consumer that reads plain. */
    public boolean plainOutput() { return plainOutput; }

    /**
     * This layer's output buffer (N, output...), in {@code planDst} (its plan's {@code dstLayout()}) where
     * layouts travel, else plain; the next layer is told the layout.
     */
    public Tensor allocateOutput(Layout planDst) {
        Layout layout = training || plainOutput ? Layout.PLAIN : planDst;
        Tensor t = backend.allocate(batchedOutput(), DType.F32, layout);
        owned.add(t);
        bytes.add(Buffer.ACTIVATION, t.byteSize());
        outputLayout = layout;
        return t;
    }

    /**
     * Moves parameter {@code i} into {@code layout} (a plan's weights layout) for the life of this compile:
     * its values are converted once here (in place in the slab when the layout pads nothing, else into a
     * tensor of its own), the {@link Parameter} the model reports (and checkpoints read and
     * load) is the moved tensor, and the plan then reads it without a reorder per call. Inference only:
     * training keeps parameters in the plain slab the optimizer updates. Returns the parameter.
     */
    public Parameter keepParameterIn(int i, Layout layout) {
        Parameter p = parameters.get(i);
        if (training || !keepWeights || layout.isPlain()) return p;
        Tensor moved;
        if (layout.byteSize(p.shape(), DType.F32) == p.value().byteSize()) {
            // no padding: convert in place in the slab, so the weights are not held twice (AlexNet's fc6: 151 MB)
            // through a native copy (freed at once), not a heap array: fc6's would be 151 MB of garbage
            try (Tensor plain = Tensor.allocate(p.shape(), DType.F32)) {
                p.value().copyTo(plain);
                moved = p.value().viewIn(layout);
                moved.copyFromHost(plain.segment());   // the one conversion
            }
        } else {
            moved = backend.allocate(p.shape(), DType.F32, layout);
            owned.add(moved);
            bytes.add(Buffer.WEIGHTS, moved.byteSize());
            p.value().copyTo(moved);   // the one conversion
        }
        Parameter q = new Parameter(p.name(), moved, null, p.offset());
        parameters.set(i, q);
        return q;
    }

    /** For a layer that returns its input (a fused activation, inference dropout): the output keeps its layout. */
    public void passThrough() { outputLayout = inputLayout; }

    Layout outputLayout() { return outputLayout; }

    /** This layer's parameters in the order of its {@link Layer#parameterSlots}. */
    public Parameter parameter(int i) { return parameters.get(i); }

    /**
     * The activation of the next layer, which this layer computes as part of its own output
     * (a {@link Conv2d} followed by an activation layer); null when there is none.
     */
    public EltwiseKind fuseActivation() { return fuseActivation; }

    /** True for an activation layer whose work the previous layer does: it passes values and gradients through. */
    public boolean fusedIntoPrevious() { return fusedIntoPrevious; }

    /** Where backward passes write parameter gradients so that they accumulate. */
    public GradientSink gradients() { return gradients; }

    /** A zeroed buffer on the backend's device that the model frees on close; counted as an activation. */
    public Tensor allocate(Shape shape, DType dtype) { return allocate(Buffer.ACTIVATION, shape, dtype); }

    public Tensor allocate(Shape shape) { return allocate(shape, DType.F32); }

    /** A zeroed buffer for {@code purpose}, which the model frees on close and counts in {@link Sequential#memory()}. */
    public Tensor allocate(Buffer purpose, Shape shape, DType dtype) {
        if ((purpose == Buffer.WORKSPACE || purpose == Buffer.BACKWARD) && !training) {
            throw new IllegalStateException("layer " + index + ": a " + purpose + " buffer " + shape + " in a model compiled for inference");
        }
        Tensor t = backend.allocate(shape, dtype);
        owned.add(t);
        bytes.add(purpose, t.byteSize());
        return t;
    }

    /** A training-only F32 gradient buffer ({@link Buffer#BACKWARD}). */
    public Tensor allocateBackward(Shape shape) { return allocate(Buffer.BACKWARD, shape, DType.F32); }

    /** A training-only workspace of {@code bytes} U8 ({@link Buffer#WORKSPACE}). */
    public Tensor allocateWorkspace(long bytes) { return allocate(Buffer.WORKSPACE, Shape.of(Math.toIntExact(bytes)), DType.U8); }

    /** Registers a plan (or anything closeable) for the model to close, in reverse order, and for its reports. */
    public <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        if (resource instanceof ReorderReport r) bytes.plans.add(new MemoryReport.LayerPlan(index, r));
        return resource;
    }

    static List<AutoCloseable> newOwnedList() { return new ArrayList<>(); }
}

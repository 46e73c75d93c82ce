package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.EltwiseKind;
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

    CompileContext(Backend backend, long seed, int index, int batch, Shape input, Shape output, boolean training,
                   List<Parameter> parameters, GradientSink gradients, List<AutoCloseable> owned,
                   EltwiseKind fuseActivation, boolean fusedIntoPrevious) {
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

    /** A zeroed buffer on the backend's device that the model frees on close. */
    public Tensor allocate(Shape shape, DType dtype) {
        Tensor t = backend.allocate(shape, dtype);
        owned.add(t);
        return t;
    }

    public Tensor allocate(Shape shape) { return allocate(shape, DType.F32); }

    /** Registers a plan (or anything closeable) for the model to close, in reverse order. */
    public <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    static List<AutoCloseable> newOwnedList() { return new ArrayList<>(); }
}

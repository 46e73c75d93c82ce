package dev.isthmus.nn;

import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

import java.util.List;

/**
 * One step of a {@link Sequential} model. A layer is declared with PyTorch's constructor
 * arguments, then compiled once by its model for a batch size, an input shape and a
 * backend: it creates its op plans and buffers there, and forward/backward allocate nothing.
 *
 * <p>Shapes passed to {@link #outputShape} are per sample, without the batch: (C, H, W) or (F).
 */
public interface Layer extends AutoCloseable {
    /** The layer's name in errors and checkpoints; set by the model ("c1", "conv2", or "3"). */
    String name();

    void setName(String name);

    /** The per-sample output shape for a per-sample input shape; throws naming the layer and both shapes. */
    Shape outputShape(Shape input);

    /** The learnable tensors this layer needs for an input shape, in checkpoint order (may be empty). */
    default List<ParameterSlot> parameterSlots(Shape input) { return List.of(); }

    /** Creates plans and buffers. {@code context} holds the backend, batch, mode and this layer's parameters. */
    void compile(CompileContext context);

    /** Computes the output for {@code input} (N, input...) and returns this layer's output buffer. */
    Tensor forward(Tensor input, boolean training);

    /**
     * Accumulates parameter gradients and returns the gradient with respect to the input of the
     * last forward, or null when {@code needInputGradient} is false (the first layer: nobody uses it).
     */
    Tensor backward(Tensor diffOutput, boolean needInputGradient);

    /** Frees plans and buffers; the layer can be compiled again afterwards. */
    @Override void close();

    /**
     * A learnable tensor a layer declares: its name suffix ("weight"), shape, fans for
     * initialisation, and how to initialise it.
     */
    record ParameterSlot(String suffix, Shape shape, int fanIn, int fanOut, Initializer init) {}
}

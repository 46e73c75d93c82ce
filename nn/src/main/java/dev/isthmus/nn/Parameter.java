package dev.isthmus.nn;

import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * One learnable tensor of a layer: its value and its gradient, both views into the
 * model's slabs (so an optimizer step is one loop over all parameters). The gradient is
 * null in a model compiled for inference.
 *
 * @param name     the checkpoint name, "layer.weight" or "layer.bias"
 * @param value    the parameter, a view of the value slab
 * @param grad     its gradient, a view of the gradient slab (null for inference)
 * @param offset   the element offset of both views in their slabs
 */
public record Parameter(String name, Tensor value, Tensor grad, long offset) {
    public Shape shape() { return value.shape(); }

    public long elements() { return value.elements(); }
}

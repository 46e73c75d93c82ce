package dev.isthmus.engine;

/**
 * One optimizer update over a whole parameter slab: params, state and grads are flat
 * tensors (the state holds {@code stateSlots()} vectors of {@code elements()} one after
 * another), so a step is a single vector loop whatever the number of layers.
 */
public interface OptimizerPlan extends AutoCloseable {
    OptimizerSpec spec();

    long elements();

    /** Shape of the state tensor the caller allocates and keeps (zeros at the start; checkpointed). */
    default Shape stateShape() {
        return Shape.of(Math.max(1, spec().stateSlots()), Math.toIntExact(elements()));
    }

    /** Updates params and state in place from grads; {@code step} counts from 1 (Adam's bias correction). */
    void step(Tensor params, Tensor state, Tensor grads, float lr, long step);

    @Override void close();
}

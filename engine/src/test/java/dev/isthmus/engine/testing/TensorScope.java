package dev.isthmus.engine.testing;

import java.util.ArrayList;
import java.util.List;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * Closes every tensor a test makes, in reverse order, so that tests free their native memory:
 *
 * <pre>
 *   try (TensorScope scope = new TensorScope()) {
 *       Tensor src = scope.uniform(1, -1, 1, 2, 3, 8, 8);
 *       Tensor dst = scope.zeros(2, 4, 6, 6);
 *       ...
 *   }
 * </pre>
 */
public final class TensorScope implements AutoCloseable {
    private final List<Tensor> tensors = new ArrayList<>();

    /** Takes ownership of {@code t} and returns it. */
    public Tensor add(Tensor t) {
        tensors.add(t);
        return t;
    }

    public Tensor zeros(int... dims) { return add(Tensor.zeros(dims)); }

    public Tensor zeros(Shape shape) { return add(Tensor.allocate(shape, DType.F32)); }

    public Tensor allocate(Shape shape, DType dtype) { return add(Tensor.allocate(shape, dtype)); }

    public Tensor of(float[] values, int... dims) { return add(Tensor.of(values, dims)); }

    public Tensor of(float[] values, Shape shape) { return add(Tensor.of(values, shape.dims())); }

    public Tensor ints(int... values) { return add(Tensor.ofInts(values)); }

    public Tensor uniform(long seed, float lo, float hi, int... dims) { return add(TestTensors.uniform(seed, lo, hi, dims)); }

    public Tensor uniform(long seed, float lo, float hi, Shape shape) { return uniform(seed, lo, hi, shape.dims()); }

    public Tensor distinct(long seed, float gap, int... dims) { return add(TestTensors.distinct(seed, gap, dims)); }

    public Tensor distinct(long seed, float gap, Shape shape) { return distinct(seed, gap, shape.dims()); }

    public Tensor labels(long seed, int batch, int classes) { return add(TestTensors.labels(seed, batch, classes)); }

    @Override public void close() {
        for (int i = tensors.size() - 1; i >= 0; i--) tensors.get(i).close();
        tensors.clear();
    }
}

package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Tensor;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All parameters of a compiled model: two flat slabs (values and gradients) and the named
 * views into them. Optimizers update the slabs in one loop; checkpoints walk the views.
 */
public final class Parameters implements Iterable<Parameter> {
    private final Backend backend;
    private final Tensor values;   // (P) all parameter values, layer after layer
    private final Tensor grads;    // (P) their gradients; null when compiled for inference
    private final List<Parameter> list;
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private final GradientSink sink;

    Parameters(Backend backend, Tensor values, Tensor grads, List<Parameter> list, GradientSink sink) {
        this.backend = backend;
        this.sink = sink;
        this.values = values;
        this.grads = grads;
        this.list = List.copyOf(list);
        for (Parameter p : list) byName.put(p.name(), p);
    }

    public Backend backend() { return backend; }

    /**
     * The value slab, (P). In an inference compile a parameter that a plan keeps in its own layout (a
     * convolution's weights on dnnl) lives in its own tensor, the one {@link #list()} names, and the slab's
     * plain copy of it is not read: read and write parameters through the list.
     */
    public Tensor values() { return values; }

    /** The gradient slab, (P); throws for an inference-only model. */
    public Tensor grads() {
        if (grads == null) throw new IllegalStateException("the model was compiled for inference: it has no gradients");
        return grads;
    }

    public boolean hasGrads() { return grads != null; }

    /** Sets every gradient to zero (PyTorch's zero_grad). */
    public void zeroGrad() {
        if (grads != null) backend.fill(grads, 0f);
        sink.markZero();
    }

    /**
     * Every parameter's values in plain layout, one after another in {@link #list()} order: the slab's
     * contents for a training compile, and the right values for an inference one too (whose kept
     * parameters live outside the slab or in it in a plan's layout, see {@link #values()}).
     */
    public float[] toFloatArray() {
        float[] all = new float[Math.toIntExact(count())];
        int at = 0;
        for (Parameter p : list) {
            float[] v = p.value().toFloatArray();
            System.arraycopy(v, 0, all, at, v.length);
            at += v.length;
        }
        return all;
    }

    /** Total number of learnable scalars. */
    public long count() { return values == null ? 0 : values.elements(); }

    public List<Parameter> list() { return list; }

    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) throw new IllegalArgumentException("no parameter '" + name + "'; the model has " + byName.keySet());
        return p;
    }

    @Override public Iterator<Parameter> iterator() { return list.iterator(); }
}

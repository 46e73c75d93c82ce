package dev.isthmus.engine.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Checks;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Device;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;

/**
 * Every op as plain scalar loops over host tensors: the specification that every other
 * backend is tested against. Written for clarity, not speed (double accumulators, one
 * output value at a time); single-threaded; plans hold nothing native and allocate
 * nothing per call. Not for training anything bigger than a test.
 */
public final class ReferenceBackend implements Backend {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    public ReferenceBackend() {}

    @Override public BackendKind kind() { return BackendKind.REFERENCE; }

    @Override public Device device() { return Device.CPU; }

    @Override public Tensor allocate(Shape shape, DType dtype) { return Tensor.allocate(shape, dtype); }

    @Override public Conv2dPlan conv2d(Conv2dSpec spec) { return new ReferenceConv2dPlan(this, require(spec)); }

    @Override public Pool2dPlan pool2d(Pool2dSpec spec) { return new ReferencePool2dPlan(require(spec)); }

    @Override public EltwisePlan eltwise(EltwiseKind kind, long elements) { return new ReferenceEltwisePlan(kind, elements); }

    @Override public LinearPlan linear(LinearSpec spec) { return new ReferenceLinearPlan(require(spec)); }

    @Override public SoftmaxCrossEntropyPlan softmaxCrossEntropy(int batch, int classes) {
        return new ReferenceSoftmaxCrossEntropyPlan(batch, classes);
    }

    @Override public OptimizerPlan optimizer(OptimizerSpec spec, long elements) { return new ReferenceOptimizerPlan(spec, elements); }

    @Override public LrnPlan lrn(LrnSpec spec) { return new ReferenceLrnPlan(require(spec)); }

    @Override public DropoutPlan dropout(long elements, float p) { return new ReferenceDropoutPlan(elements, p); }

    /** y += alpha x, in double per element. */
    @Override public void axpy(float alpha, Tensor x, Tensor y) {
        if (x == null) throw new IllegalArgumentException("axpy: x is null");
        Checks.elements("axpy", "x", x, x.elements());
        Checks.elements("axpy", "y", y, x.elements());
        MemorySegment xs = x.segment(), ys = y.segment();
        for (long i = 0, n = x.elements(); i < n; i++) {
            ys.setAtIndex(F, i, (float) (ys.getAtIndex(F, i) + (double) alpha * xs.getAtIndex(F, i)));
        }
    }

    @Override public void fill(Tensor t, float value) {
        if (t == null) throw new IllegalArgumentException("fill: tensor is null");
        Checks.elements("fill", "tensor", t, t.elements());
        MemorySegment s = t.segment();
        for (long i = 0, n = t.elements(); i < n; i++) s.setAtIndex(F, i, value);
    }

    @Override public String describe() { return "reference: plain scalar Java loops, 1 thread"; }

    @Override public void close() {}

    private static <T> T require(T spec) {
        if (spec == null) throw new IllegalArgumentException("spec is null");
        return spec;
    }

    @Override public String toString() { return "ReferenceBackend"; }
}

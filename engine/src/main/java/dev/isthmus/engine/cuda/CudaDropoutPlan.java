package dev.isthmus.engine.cuda;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.Tensor;

/**
 * Inverted dropout (dropout.cu): the mask of element i is {@link DropoutPlan#keep}(seed, i, p) bit
 * for bit (SplitMix64 in unsigned 64-bit arithmetic on the device, the threshold computed here
 * exactly as the specification does), one byte per element; survivors are scaled by 1 / (1 - p).
 * The twin of the opencl backend's plan.
 *
 * <pre>
 *   src, dst, diffSrc, diffDst  any shape with {@code elements} F32 values   mask  {@code elements} U8
 * </pre>
 */
final class CudaDropoutPlan extends CudaPlan implements DropoutPlan {
    private final long elements;
    private final float p;
    private final Cu.Kernel forward, backward;

    CudaDropoutPlan(CudaBackend backend, long elements, float p) {
        super(backend, "cuda dropout(" + elements + ", p=" + p + ")");
        this.elements = Checks.positive("dropout elements", elements);
        this.p = Checks.inRange("dropout probability", p, 0f, 1f);
        long threshold = (long) ((1.0 - p) * 4294967296.0);   // as DropoutPlan.keep
        float scale = (float) (1.0 / (1.0 - p));
        try {
            forward = kernel("dropout", "dropout_forward", 7).i64(3, elements).i64(5, threshold).f32(6, scale)
                    .range(elements, CudaBackend.GROUP);
            backward = kernel("dropout", "dropout_backward", 5).i64(3, elements).f32(4, scale)
                    .range(elements, CudaBackend.GROUP);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override public long elements() { return elements; }

    @Override public float probability() { return p; }

    @Override public void forwardTraining(Tensor dst, Tensor mask, Tensor src, long seed) {
        Checks.elements(op, "dst", dst, elements);
        Checks.workspace(op, "mask", mask, elements);
        Checks.elements(op, "src", src, elements);
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(forward, 0, op, "dst", dst);
            backend.tensor(forward, 1, op, "mask", mask);
            backend.tensor(forward, 2, op, "src", src);
            forward.i64(4, seed);
            launch(forward);
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor mask) {
        Checks.elements(op, "diffSrc", diffSrc, elements);
        Checks.elements(op, "diffDst", diffDst, elements);
        Checks.workspace(op, "mask", mask, elements);
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(backward, 0, op, "diffSrc", diffSrc);
            backend.tensor(backward, 1, op, "diffDst", diffDst);
            backend.tensor(backward, 2, op, "mask", mask);
            launch(backward);
        }
    }
}

package dev.isthmus.engine.opencl;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.Tensor;

/**
 * Inverted dropout (dropout.cl): the mask of element i is {@link DropoutPlan#keep}(seed, i, p)
 * bit for bit (SplitMix64 in ulong on the device, the threshold computed here exactly as the
 * specification does), one byte per element; survivors are scaled by 1 / (1 - p).
 *
 * <pre>
 *   src, dst, diffSrc, diffDst  any shape with {@code elements} F32 values   mask  {@code elements} U8
 * </pre>
 */
final class OpenClDropoutPlan extends OpenClPlan implements DropoutPlan {
    private final long elements;
    private final float p;
    private final Cl.Kernel forward, backward;

    OpenClDropoutPlan(OpenClBackend backend, long elements, float p) {
        super(backend, "opencl dropout(" + elements + ", p=" + p + ")");
        this.elements = Checks.positive("dropout elements", elements);
        this.p = Checks.inRange("dropout probability", p, 0f, 1f);
        long threshold = (long) ((1.0 - p) * 4294967296.0);   // as DropoutPlan.keep
        float scale = (float) (1.0 / (1.0 - p));
        try {
            synchronized (backend.lock()) {
                forward = kernel("dropout", "dropout_forward").i64(6, elements).i64(8, threshold).f32(9, scale)
                        .range(elements, OpenClBackend.GROUP);
                backward = kernel("dropout", "dropout_backward").i64(6, elements).f32(7, scale)
                        .range(elements, OpenClBackend.GROUP);
            }
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
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(forward, 0, op, "dst", dst);
            backend.tensor(forward, 2, op, "mask", mask);
            backend.tensor(forward, 4, op, "src", src);
            forward.i64(7, seed);
            backend.queue().run(forward);
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor mask) {
        Checks.elements(op, "diffSrc", diffSrc, elements);
        Checks.elements(op, "diffDst", diffDst, elements);
        Checks.workspace(op, "mask", mask, elements);
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(backward, 0, op, "diffSrc", diffSrc);
            backend.tensor(backward, 2, op, "diffDst", diffDst);
            backend.tensor(backward, 4, op, "mask", mask);
            backend.queue().run(backward);
        }
    }
}

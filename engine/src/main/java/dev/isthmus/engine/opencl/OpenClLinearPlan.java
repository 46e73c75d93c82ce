package dev.isthmus.engine.opencl;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * A fully connected layer as three tiled GEMMs (linear.cl over gemm.clh) plus a column
 * reduction for diffBias; semantics as {@code ReferenceLinearPlan}.
 *
 * <pre>
 *   src (N, IC), any shape with N IC elements   weights (OC, IC)   bias (OC)   dst (N, OC)
 * </pre>
 */
final class OpenClLinearPlan extends OpenClPlan implements LinearPlan {
    private final LinearSpec spec;
    private final Shape dstShape, weightsShape, biasShape;
    private final long srcElements;
    private final Cl.Kernel forward, backwardData, backwardWeights, backwardBias;

    OpenClLinearPlan(OpenClBackend backend, LinearSpec spec) {
        super(backend, "opencl " + spec);
        this.spec = spec;
        dstShape = spec.dstShape();
        weightsShape = spec.weightsShape();
        biasShape = spec.hasBias() ? spec.biasShape() : null;   // null: no bias
        srcElements = (long) spec.batch() * spec.inFeatures();
        if (srcElements > Integer.MAX_VALUE || (long) spec.outFeatures() * spec.inFeatures() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": tensors over 2^31 elements are not supported by the opencl backend");
        }
        int n = spec.batch(), in = spec.inFeatures(), out = spec.outFeatures();
        try {
            synchronized (backend.lock()) {
                forward = kernel("linear", "linear_forward");
                forward.i32(8, n).i32(9, in).i32(10, out)
                        .groups(tiles(out), tiles(n), 1, OpenClBackend.GEMM_GROUP, OpenClBackend.GEMM_GROUP, 1);
                backwardData = kernel("linear", "linear_backward_data");
                backwardData.i32(6, n).i32(7, in).i32(8, out)
                        .groups(tiles(in), tiles(n), 1, OpenClBackend.GEMM_GROUP, OpenClBackend.GEMM_GROUP, 1);
                backwardWeights = kernel("linear", "linear_backward_weights");
                backwardWeights.i32(6, n).i32(7, in).i32(8, out)
                        .groups(tiles(in), tiles(out), 1, OpenClBackend.GEMM_GROUP, OpenClBackend.GEMM_GROUP, 1);
                backwardBias = spec.hasBias() ? kernel("linear", "bias_backward") : null;
                if (backwardBias != null) {
                    backwardBias.i32(4, n).i32(5, out).i32(6, 1).groups(out, 1, 1, OpenClBackend.GROUP, 1, 1);
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static long tiles(int n) { return (n + OpenClBackend.GEMM_TILE - 1) / OpenClBackend.GEMM_TILE; }

    @Override public LinearSpec spec() { return spec; }

    @Override public void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias) {
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.elements(op, "src", src, srcElements);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        Checks.bias(op, "bias", bias, biasShape, "layer");
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(forward, 0, op, "dst", dst);
            backend.tensor(forward, 2, op, "src", src);
            backend.tensor(forward, 4, op, "weights", weights);
            if (bias != null) backend.tensor(forward, 6, op, "bias", bias);
            else OpenClBackend.none(forward, 6);
            backend.queue().run(forward);
        }
    }

    @Override public void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights) {
        Checks.elements(op, "diffSrc", diffSrc, srcElements);
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(backwardData, 0, op, "diffSrc", diffSrc);
            backend.tensor(backwardData, 2, op, "diffDst", diffDst);
            backend.tensor(backwardData, 4, op, "weights", weights);
            backend.queue().run(backwardData);
        }
    }

    @Override public void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src) {
        Checks.tensor(op, "diffWeights", diffWeights, weightsShape, DType.F32);
        Checks.bias(op, "diffBias", diffBias, biasShape, "layer");
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.elements(op, "src", src, srcElements);
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(backwardWeights, 0, op, "diffWeights", diffWeights);
            backend.tensor(backwardWeights, 2, op, "diffDst", diffDst);
            backend.tensor(backwardWeights, 4, op, "src", src);
            backend.queue().run(backwardWeights);
            if (diffBias != null) {
                backend.tensor(backwardBias, 0, op, "diffBias", diffBias);
                backend.tensor(backwardBias, 2, op, "diffDst", diffDst);
                backend.queue().run(backwardBias);
            }
        }
    }

}

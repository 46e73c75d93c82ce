package dev.isthmus.engine.cuda;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * A fully connected layer as three tiled GEMMs (linear.cu over gemm.cuh) plus a column reduction
 * for diffBias; semantics as {@code ReferenceLinearPlan}. The twin of the opencl backend's plan.
 *
 * <pre>
 *   src (N, IC), any shape with N IC elements   weights (OC, IC)   bias (OC)   dst (N, OC)
 * </pre>
 */
final class CudaLinearPlan extends CudaPlan implements LinearPlan {
    private static final int WG = CudaBackend.GEMM_GROUP;

    private final LinearSpec spec;
    private final Shape dstShape, weightsShape, biasShape;
    private final long srcElements;
    private final Cu.Kernel forward, backwardData, backwardWeights, backwardBias;

    CudaLinearPlan(CudaBackend backend, LinearSpec spec) {
        super(backend, "cuda " + spec);
        this.spec = spec;
        dstShape = spec.dstShape();
        weightsShape = spec.weightsShape();
        biasShape = spec.hasBias() ? spec.biasShape() : null;   // null: no bias
        srcElements = (long) spec.batch() * spec.inFeatures();
        if (srcElements > Integer.MAX_VALUE || (long) spec.outFeatures() * spec.inFeatures() > Integer.MAX_VALUE
                || dstShape.elements() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": tensors over 2^31 elements are not supported by the cuda backend");
        }
        int n = spec.batch(), in = spec.inFeatures(), out = spec.outFeatures();
        try {
            forward = kernel("linear", "linear_forward", 7).i32(4, n).i32(5, in).i32(6, out)
                    .grid(tiles(out), tiles(n), 1, WG, WG, 1);
            backwardData = kernel("linear", "linear_backward_data", 6).i32(3, n).i32(4, in).i32(5, out)
                    .grid(tiles(in), tiles(n), 1, WG, WG, 1);
            backwardWeights = kernel("linear", "linear_backward_weights", 6).i32(3, n).i32(4, in).i32(5, out)
                    .grid(tiles(in), tiles(out), 1, WG, WG, 1);
            backwardBias = spec.hasBias() ? kernel("linear", "bias_backward", 5) : null;
            if (backwardBias != null) backwardBias.i32(2, n).i32(3, out).i32(4, 1).grid(out, 1, 1, CudaBackend.GROUP, 1, 1);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static long tiles(int n) { return (n + CudaBackend.GEMM_TILE - 1) / CudaBackend.GEMM_TILE; }

    @Override public LinearSpec spec() { return spec; }

    @Override public void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias) {
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.elements(op, "src", src, srcElements);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        Checks.bias(op, "bias", bias, biasShape, "layer");
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(forward, 0, op, "dst", dst);
            backend.tensor(forward, 1, op, "src", src);
            backend.tensor(forward, 2, op, "weights", weights);
            if (bias != null) backend.tensor(forward, 3, op, "bias", bias);
            else forward.pointer(3, 0);
            launch(forward);
        }
    }

    @Override public void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights) {
        Checks.elements(op, "diffSrc", diffSrc, srcElements);
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(backwardData, 0, op, "diffSrc", diffSrc);
            backend.tensor(backwardData, 1, op, "diffDst", diffDst);
            backend.tensor(backwardData, 2, op, "weights", weights);
            launch(backwardData);
        }
    }

    @Override public void backwardWeights(Tensor diffWeights, Tensor diffBias, Tensor diffDst, Tensor src) {
        Checks.tensor(op, "diffWeights", diffWeights, weightsShape, DType.F32);
        Checks.bias(op, "diffBias", diffBias, biasShape, "layer");
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.elements(op, "src", src, srcElements);
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(backwardWeights, 0, op, "diffWeights", diffWeights);
            backend.tensor(backwardWeights, 1, op, "diffDst", diffDst);
            backend.tensor(backwardWeights, 2, op, "src", src);
            launch(backwardWeights);
            if (diffBias != null) {
                backend.tensor(backwardBias, 0, op, "diffBias", diffBias);
                backend.tensor(backwardBias, 1, op, "diffDst", diffDst);
                launch(backwardBias);
            }
        }
    }

}

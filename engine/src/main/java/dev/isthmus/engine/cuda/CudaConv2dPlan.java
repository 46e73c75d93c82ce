package dev.isthmus.engine.cuda;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.FusedActivation;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;

/**
 * Convolution as three implicit GEMMs (conv.cu over gemm.cuh), one per pass, each launched as one
 * GEMM per group (grid z): forward {@code (OCg) x (N OH OW)}, backward-data {@code (ICg) x (N IH IW)}
 * (a gather: each diffSrc value is one sum), backward-weights {@code (OCg) x (ICg KH KW)} with
 * K = N OH OW. diffBias is a block reduction per output channel. Semantics as
 * {@code ReferenceConv2dPlan}; no scratch memory. The twin of the opencl backend's plan.
 *
 * <pre>
 *   src (N, IC, IH, IW)   weights (OC, IC/G, KH, KW)   bias (OC)   dst (N, OC, OH, OW)
 * </pre>
 */
final class CudaConv2dPlan extends CudaPlan implements Conv2dPlan {
    private static final int TILE = CudaBackend.GEMM_TILE, WG = CudaBackend.GEMM_GROUP;

    private final Conv2dSpec spec;
    private final Shape srcShape, dstShape, weightsShape, biasShape;
    private final Cu.Kernel forward, backwardData, backwardWeights, backwardBias;
    private final FusedActivation activation;   // the backend's eltwise kernel, run after the convolution's

    CudaConv2dPlan(CudaBackend backend, Conv2dSpec spec) {
        super(backend, "cuda " + spec);
        this.spec = spec;
        srcShape = spec.srcShape();
        dstShape = spec.dstShape();
        weightsShape = spec.weightsShape();
        biasShape = spec.hasBias() ? spec.biasShape() : null;   // null: no bias
        for (Shape s : new Shape[] {srcShape, dstShape}) {
            if (s.elements() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(op + ": tensor " + s + " has over 2^31 elements, which the cuda kernels' int GEMM indices do not reach");
            }
        }
        Window w = spec.window();
        int g = spec.groups(), icg = spec.inChannels() / g, ocg = spec.outChannels() / g;
        int khw = w.kernelHeight() * w.kernelWidth();
        long n = (long) spec.batch() * spec.outHeight() * spec.outWidth();        // forward GEMM columns
        long nihw = (long) spec.batch() * spec.inHeight() * spec.inWidth();    // backward-data GEMM columns
        int[] geometry = {spec.batch(), spec.inChannels(), spec.inHeight(), spec.inWidth(),
                spec.outChannels(), spec.outHeight(), spec.outWidth(),
                w.kernelHeight(), w.kernelWidth(), w.strideHeight(), w.strideWidth(), w.padTop(), w.padLeft(),
                w.dilationHeight() + 1, w.dilationWidth() + 1, g};
        try {
            activation = new FusedActivation(backend, spec, op);
            forward = kernel("conv", "conv_forward", 5).ints(4, geometry)
                    .grid(tiles(n), tiles(ocg), g, WG, WG, 1);
            backwardData = kernel("conv", "conv_backward_data", 4).ints(3, geometry)
                    .grid(tiles(nihw), tiles(icg), g, WG, WG, 1);
            backwardWeights = kernel("conv", "conv_backward_weights", 4).ints(3, geometry)
                    .grid(tiles((long) icg * khw), tiles(ocg), g, WG, WG, 1);
            backwardBias = spec.hasBias() ? kernel("conv", "bias_backward", 5) : null;
            if (backwardBias != null) {
                backwardBias.i32(2, spec.batch()).i32(3, spec.outChannels()).i32(4, spec.outHeight() * spec.outWidth())
                        .grid(spec.outChannels(), 1, 1, CudaBackend.GROUP, 1, 1);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static long tiles(long n) { return (n + TILE - 1) / TILE; }

    @Override public Conv2dSpec spec() { return spec; }

    @Override public void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias) {
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        Checks.bias(op, "bias", bias, biasShape, "convolution");
        synchronized (backend.lock()) {
            checkOpen();
            backend.tensor(forward, 0, op, "dst", dst);
            backend.tensor(forward, 1, op, "src", src);
            backend.tensor(forward, 2, op, "weights", weights);
            if (bias != null) backend.tensor(forward, 3, op, "bias", bias);
            else forward.pointer(3, 0);
            launch(forward);
        }
        activation.applyInPlace(dst);
    }

    @Override public void backwardActivation(Tensor diffPre, Tensor diffDst, Tensor dst) {
        checkOpen();
        activation.backward(diffPre, diffDst, dst);
    }

    @Override public void backwardData(Tensor diffSrc, Tensor diffDst, Tensor weights) {
        Checks.tensor(op, "diffSrc", diffSrc, srcShape, DType.F32);
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
        Checks.bias(op, "diffBias", diffBias, biasShape, "convolution");
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
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

    @Override public void close() {
        if (activation != null) activation.close();
        super.close();
    }
}

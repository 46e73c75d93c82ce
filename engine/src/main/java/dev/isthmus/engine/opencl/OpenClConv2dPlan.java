package dev.isthmus.engine.opencl;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.FusedActivation;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;

/**
 * Convolution as three implicit GEMMs (conv.cl over gemm.clh), one per pass, each launched as
 * one GEMM per group: forward {@code (OCg) x (N OH OW)}, backward-data {@code (ICg) x (N IH IW)}
 * (a gather: each diffSrc value is one sum), backward-weights {@code (OCg) x (ICg KH KW)} with
 * K = N OH OW. diffBias is a work-group reduction per output channel. Semantics as
 * {@code ReferenceConv2dPlan}; no scratch memory.
 *
 * <pre>
 *   src (N, IC, IH, IW)   weights (OC, IC/G, KH, KW)   bias (OC)   dst (N, OC, OH, OW)
 * </pre>
 */
final class OpenClConv2dPlan extends OpenClPlan implements Conv2dPlan {
    private static final int TILE = OpenClBackend.GEMM_TILE, WG = OpenClBackend.GEMM_GROUP;

    private final Conv2dSpec spec;
    private final Shape srcShape, dstShape, weightsShape, biasShape;
    private final Cl.Kernel forward, backwardData, backwardWeights, backwardBias;
    private final FusedActivation activation;   // the backend's eltwise kernel, run after the convolution's

    OpenClConv2dPlan(OpenClBackend backend, Conv2dSpec spec) {
        super(backend, "opencl " + spec);
        this.spec = spec;
        srcShape = spec.srcShape();
        dstShape = spec.dstShape();
        weightsShape = spec.weightsShape();
        biasShape = spec.hasBias() ? spec.biasShape() : null;   // null: no bias
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
            synchronized (backend.lock()) {
                forward = kernel("conv", "conv_forward").ints(8, geometry)
                        .groups(tiles(n, TILE), tiles(ocg, TILE), g, WG, WG, 1);
                backwardData = kernel("conv", "conv_backward_data").ints(6, geometry)
                        .groups(tiles(nihw, TILE), tiles(icg, TILE), g, WG, WG, 1);
                backwardWeights = kernel("conv", "conv_backward_weights").ints(6, geometry)
                        .groups(tiles((long) icg * khw, TILE), tiles(ocg, TILE), g, WG, WG, 1);
                backwardBias = spec.hasBias() ? kernel("conv", "bias_backward") : null;
                if (backwardBias != null) {
                    backwardBias.i32(4, spec.batch()).i32(5, spec.outChannels()).i32(6, spec.outHeight() * spec.outWidth())
                            .groups(spec.outChannels(), 1, 1, OpenClBackend.GROUP, 1, 1);
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Index arithmetic in the kernels is int: every tensor must stay under 2^31 elements. */
    private static long tiles(long n, int tile) {
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("opencl conv2d: a GEMM dimension of " + n + " exceeds 2^31");
        return (n + tile - 1) / tile;
    }

    @Override public Conv2dSpec spec() { return spec; }

    @Override public void forward(Tensor dst, Tensor src, Tensor weights, Tensor bias) {
        Checks.tensor(op, "dst", dst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
        Checks.tensor(op, "weights", weights, weightsShape, DType.F32);
        Checks.bias(op, "bias", bias, biasShape, "convolution");
        checkOpen();
        synchronized (backend.lock()) {
            backend.tensor(forward, 0, op, "dst", dst);
            backend.tensor(forward, 2, op, "src", src);
            backend.tensor(forward, 4, op, "weights", weights);
            if (bias != null) backend.tensor(forward, 6, op, "bias", bias);
            else OpenClBackend.none(forward, 6);
            backend.queue().run(forward);
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
        Checks.bias(op, "diffBias", diffBias, biasShape, "convolution");
        Checks.tensor(op, "diffDst", diffDst, dstShape, DType.F32);
        Checks.tensor(op, "src", src, srcShape, DType.F32);
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

    @Override public void close() {
        if (activation != null) activation.close();
        super.close();
    }
}

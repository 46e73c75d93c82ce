package dev.isthmus.engine;

/**
 * A fully connected layer (oneDNN's inner product,
 * https://uxlfoundation.github.io/oneDNN/dev_guide_inner_product.html; PyTorch's nn.Linear).
 *
 * <pre>
 *   src      (N, IC)     a (N, C, H, W) tensor is read as (N, C*H*W)
 *   weights  (OC, IC)
 *   bias     (OC)
 *   dst      (N, OC)
 * </pre>
 */
public record LinearSpec(int batch, int inFeatures, int outFeatures, boolean hasBias) {
    public LinearSpec {
        Checks.positive("batch", batch);
        Checks.positive("input features", inFeatures);
        Checks.positive("output features", outFeatures);
    }

    public Shape srcShape() { return Shape.of(batch, inFeatures); }

    public Shape dstShape() { return Shape.of(batch, outFeatures); }

    public Shape weightsShape() { return Shape.of(outFeatures, inFeatures); }

    public Shape biasShape() { return Shape.of(outFeatures); }

    public long flops() { return 2L * batch * inFeatures * outFeatures; }

    @Override public String toString() {
        return "linear(" + srcShape() + " -> " + dstShape() + (hasBias ? "" : ", no bias") + ")";
    }
}

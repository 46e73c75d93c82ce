package dev.isthmus.engine;

/**
 * Local response normalisation across channels, with PyTorch's and oneDNN's semantics
 * (torch.nn.LocalResponseNorm; https://uxlfoundation.github.io/oneDNN/dev_guide_lrn.html):
 *
 * <pre>
 *   dst[n,c,h,w] = src[n,c,h,w] / (k + alpha/size * sum_{c' in window(c)} src[n,c',h,w]^2)^beta
 *   window(c) = [c - (size-1)/2, c + size/2], clipped to [0, C)
 *   src, dst  (N, C, H, W)
 * </pre>
 *
 * Krizhevsky et al. 2012 write alpha without the division by size: their alpha = 1e-4 with
 * n = 5 is alpha = 5e-4 here.
 */
public record LrnSpec(int batch, int channels, int height, int width, int size, float alpha, float beta, float k) {
    public LrnSpec {
        Checks.positive("batch", batch);
        Checks.positive("channels", channels);
        Checks.positive("height", height);
        Checks.positive("width", width);
        Checks.positive("size", size);
        Checks.finiteNonNegative("alpha", alpha);
        Checks.finiteNonNegative("beta", beta);
        if (!(k > 0) || Float.isInfinite(k)) throw new IllegalArgumentException("k must be finite and > 0, got " + k);
    }

    public Shape shape() { return Shape.of(batch, channels, height, width); }

    @Override public String toString() {
        return "lrn(" + shape() + ", size=" + size + ", alpha=" + alpha + ", beta=" + beta + ", k=" + k + ")";
    }
}

package dev.isthmus.engine;

/**
 * The fixed geometry of a 2-D convolution, validated once and passed to every plan.
 * Semantics follow oneDNN's convolution (https://uxlfoundation.github.io/oneDNN/dev_guide_convolution.html),
 * which for dilation 0 equals PyTorch's {@code torch.nn.Conv2d} (cross-correlation).
 *
 * <pre>
 *   src          (N, IC, IH, IW)
 *   weights      (OC, IC/G, KH, KW)    same memory as oneDNN's grouped goihw
 *   bias         (OC)
 *   dst          (N, OC, OH, OW)
 * </pre>
 *
 * <p>{@code activation}, when not null, is fused: the plan's forward writes
 * {@code activation(conv(src, weights) + bias)} in one pass (oneDNN's eltwise post-op), so a model
 * needs neither a separate activation pass over dst nor a buffer for the pre-activation output.
 * Its backward is {@link Conv2dPlan#backwardActivation}, computed from dst.
 */
public record Conv2dSpec(int batch, int inChannels, int inHeight, int inWidth,
                         int outChannels, Window window, int groups, boolean hasBias, EltwiseKind activation) {

    /** A convolution without a fused activation. */
    public Conv2dSpec(int batch, int inChannels, int inHeight, int inWidth,
                      int outChannels, Window window, int groups, boolean hasBias) {
        this(batch, inChannels, inHeight, inWidth, outChannels, window, groups, hasBias, null);
    }

    public Conv2dSpec {
        Checks.positive("batch", batch);
        Checks.positive("input channels", inChannels);
        Checks.positive("input height", inHeight);
        Checks.positive("input width", inWidth);
        Checks.positive("output channels", outChannels);
        Checks.positive("groups", groups);
        if (window == null) throw new IllegalArgumentException("window is null");
        if (inChannels % groups != 0) {
            throw new IllegalArgumentException("input channels " + inChannels + " are not divisible by groups " + groups);
        }
        if (outChannels % groups != 0) {
            throw new IllegalArgumentException("output channels " + outChannels + " are not divisible by groups " + groups);
        }
        window.outHeight(inHeight);   // throws when the kernel does not fit
        window.outWidth(inWidth);
    }

    /** The same convolution with {@code kind} fused into it (null: none). */
    public Conv2dSpec withActivation(EltwiseKind kind) {
        return new Conv2dSpec(batch, inChannels, inHeight, inWidth, outChannels, window, groups, hasBias, kind);
    }

    public boolean hasActivation() { return activation != null; }

    public int outHeight() { return window.outHeight(inHeight); }

    public int outWidth() { return window.outWidth(inWidth); }

    public Shape srcShape() { return Shape.of(batch, inChannels, inHeight, inWidth); }

    public Shape dstShape() { return Shape.of(batch, outChannels, outHeight(), outWidth()); }

    public Shape weightsShape() {
        return Shape.of(outChannels, inChannels / groups, window.kernelHeight(), window.kernelWidth());
    }

    public Shape biasShape() { return Shape.of(outChannels); }

    /** Multiply-adds times two of one forward pass (backward-data and backward-weights cost the same). */
    public long flops() {
        return 2L * batch * outChannels * outHeight() * outWidth()
                * (inChannels / groups) * window.kernelHeight() * window.kernelWidth();
    }

    @Override public String toString() {
        return "conv2d(" + srcShape() + " -> " + dstShape() + ", " + window + (groups > 1 ? ",g=" + groups : "")
                + (hasBias ? "" : ",no bias") + (activation == null ? "" : "+" + activation.name().toLowerCase(java.util.Locale.ROOT)) + ")";
    }
}

package dev.isthmus.engine;

/**
 * The fixed geometry of 2-D pooling, following oneDNN's pooling
 * (https://uxlfoundation.github.io/oneDNN/dev_guide_pooling.html). Windows may overlap
 * (AlexNet's 3x3 stride 2). Average pooling either counts padded positions in the
 * divisor (PyTorch's default, {@code count_include_pad=True}) or does not.
 *
 * <pre>
 *   src  (N, C, IH, IW)
 *   dst  (N, C, OH, OW)
 * </pre>
 */
public record Pool2dSpec(int batch, int channels, int inHeight, int inWidth, Window window, Kind kind) {

    public enum Kind { MAX, AVG_INCLUDE_PADDING, AVG_EXCLUDE_PADDING }

    public Pool2dSpec {
        Checks.positive("batch", batch);
        Checks.positive("channels", channels);
        Checks.positive("input height", inHeight);
        Checks.positive("input width", inWidth);
        if (window == null || kind == null) throw new IllegalArgumentException("window and kind are required");
        if (window.dilationHeight() != 0 || window.dilationWidth() != 0) {
            throw new IllegalArgumentException("dilated pooling is not supported: " + window);
        }
        window.outHeight(inHeight);
        window.outWidth(inWidth);
        if (window.padTop() >= window.kernelHeight() || window.padLeft() >= window.kernelWidth()
                || window.padBottom() >= window.kernelHeight() || window.padRight() >= window.kernelWidth()) {
            throw new IllegalArgumentException("pooling padding must be smaller than the kernel: " + window);
        }
    }

    public int outHeight() { return window.outHeight(inHeight); }

    public int outWidth() { return window.outWidth(inWidth); }

    public Shape srcShape() { return Shape.of(batch, channels, inHeight, inWidth); }

    public Shape dstShape() { return Shape.of(batch, channels, outHeight(), outWidth()); }

    @Override public String toString() {
        return "pool2d(" + kind + ", " + srcShape() + " -> " + dstShape() + ", " + window + ")";
    }
}

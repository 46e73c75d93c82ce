package dev.isthmus.engine;

/**
 * The sliding-window geometry shared by convolution and pooling, in oneDNN's
 * convention: padding given per side, dilation 0 meaning "no dilation" (PyTorch's 1).
 * The conversion from PyTorch's conventions happens in one place, the nn layers.
 */
public record Window(int kernelHeight, int kernelWidth,
                     int strideHeight, int strideWidth,
                     int padTop, int padLeft, int padBottom, int padRight,
                     int dilationHeight, int dilationWidth) {

    public Window {
        Checks.positive("kernel height", kernelHeight);
        Checks.positive("kernel width", kernelWidth);
        Checks.positive("stride height", strideHeight);
        Checks.positive("stride width", strideWidth);
        Checks.nonNegative("top padding", padTop);
        Checks.nonNegative("left padding", padLeft);
        Checks.nonNegative("bottom padding", padBottom);
        Checks.nonNegative("right padding", padRight);
        Checks.nonNegative("dilation height (oneDNN convention, 0 = none)", dilationHeight);
        Checks.nonNegative("dilation width (oneDNN convention, 0 = none)", dilationWidth);
    }

    /** A square window: kernel k, stride s, symmetric padding p, no dilation. */
    public static Window square(int kernel, int stride, int padding) {
        return new Window(kernel, kernel, stride, stride, padding, padding, padding, padding, 0, 0);
    }

    /** Kernel extent once dilated: (K - 1) * (D + 1) + 1. */
    public int effectiveKernelHeight() { return (kernelHeight - 1) * (dilationHeight + 1) + 1; }

    public int effectiveKernelWidth() { return (kernelWidth - 1) * (dilationWidth + 1) + 1; }

    /** Output height for an input of height {@code h}; throws if the window does not fit. */
    public int outHeight(int h) {
        return outSize("height", h, padTop, padBottom, effectiveKernelHeight(), strideHeight);
    }

    public int outWidth(int w) {
        return outSize("width", w, padLeft, padRight, effectiveKernelWidth(), strideWidth);
    }

    private static int outSize(String axis, int in, int padA, int padB, int kernel, int stride) {
        int padded = in + padA + padB;
        if (kernel > padded) {
            throw new IllegalArgumentException("kernel " + axis + " " + kernel + " is larger than the padded input "
                    + axis + " " + padded + " (" + in + " + padding " + padA + " + " + padB + ")");
        }
        return (padded - kernel) / stride + 1;
    }

    @Override public String toString() {
        String s = "k=" + kernelHeight + (kernelWidth != kernelHeight ? "x" + kernelWidth : "")
                + ",s=" + strideHeight + (strideWidth != strideHeight ? "x" + strideWidth : "");
        if (padTop + padLeft + padBottom + padRight > 0) s += ",p=" + padTop + "/" + padLeft + "/" + padBottom + "/" + padRight;
        if (dilationHeight + dilationWidth > 0) s += ",d=" + dilationHeight + "x" + dilationWidth;
        return s;
    }
}

package dev.isthmus.nn;

import dev.isthmus.engine.Pool2dSpec;

/**
 * Average pooling (torch.nn.AvgPool2d, count_include_pad=True): LeNet-5's subsampling
 * layers S2 and S4 are {@code new AvgPool2d(2)}. Stride defaults to the kernel size.
 */
public final class AvgPool2d extends Pool2d {
    public AvgPool2d(int kernelSize) { this(kernelSize, kernelSize, 0); }

    public AvgPool2d(int kernelSize, int stride) { this(kernelSize, stride, 0); }

    public AvgPool2d(int kernelSize, int stride, int padding) {
        super(kernelSize, stride, padding, Pool2dSpec.Kind.AVG_INCLUDE_PADDING);
    }
}

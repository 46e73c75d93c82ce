package dev.isthmus.nn;

import dev.isthmus.engine.Pool2dSpec;

/**
 * Max pooling (torch.nn.MaxPool2d). Overlapping windows are allowed: AlexNet's
 * {@code new MaxPool2d(3, 2)}. Stride defaults to the kernel size, as in PyTorch.
 */
public final class MaxPool2d extends Pool2d {
    public MaxPool2d(int kernelSize) { this(kernelSize, kernelSize, 0); }

    public MaxPool2d(int kernelSize, int stride) { this(kernelSize, stride, 0); }

    public MaxPool2d(int kernelSize, int stride, int padding) {
        super(kernelSize, stride, padding, Pool2dSpec.Kind.MAX);
    }
}

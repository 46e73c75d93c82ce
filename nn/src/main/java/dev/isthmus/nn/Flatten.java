package dev.isthmus.nn;

import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

/**
 * (N, C, H, W) to (N, C*H*W) (torch.nn.Flatten). Row-major tensors need no copy: the
 * output is a view of the input, and the gradient a view of the incoming gradient.
 */
public final class Flatten extends AbstractLayer {
    private Shape batchedInput, batchedOutput;
    private Tensor lastInput, outputView;
    private Tensor lastDiff, diffView;

    @Override public Shape outputShape(Shape input) { return Shape.of(Math.toIntExact(input.elements())); }

    @Override public void compile(CompileContext ctx) {
        batchedInput = ctx.batchedInput();
        batchedOutput = ctx.batchedOutput();
    }

    @Override public Tensor forward(Tensor input, boolean training) {
        if (input != lastInput) {          // the previous layer's buffer is stable: make the view once
            lastInput = input;
            outputView = input.reshape(batchedOutput);
        }
        return outputView;
    }

    @Override public Tensor backward(Tensor diffOutput, boolean needInputGradient) {
        if (!needInputGradient) return null;
        if (diffOutput != lastDiff) {
            lastDiff = diffOutput;
            diffView = diffOutput.reshape(batchedInput);
        }
        return diffView;
    }

    @Override public void close() {
        lastInput = outputView = lastDiff = diffView = null;
    }

    @Override public String toString() { return "Flatten()"; }
}

package dev.isthmus.nn;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TensorScope;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A model compiled with its convolutions' activations fused computes what the unfused model
 * computes: outputs and every parameter gradient (ReLU bit for bit; tanh-like activations within
 * float rounding, oneDNN's tanh not being the Vector API's), and names what it fused.
 */
class ActivationFusionTest {
    private static final int BATCH = 4;
    private static final Shape INPUT = Shape.of(3, 16, 16);

    /** Every activation kind after a convolution, a grouped one, and activations that must stay unfused. */
    private static Sequential model() {
        return new Sequential(
                named("conv1", new Conv2d(3, 8, 3, 1, 1)), named("relu1", new ReLU()),
                named("pool1", new MaxPool2d(2, 2)),
                named("conv2", new Conv2d(8, 8, 3, 1, 1, 1, 2, true)), named("tanh2", new ScaledTanh()),
                named("conv3", new Conv2d(8, 6, 3, 1, 0)), named("sig3", new Sigmoid()),
                named("conv4", new Conv2d(6, 6, 3, 1, 1)), named("tanh4", new Tanh()),
                named("flat", new Flatten()), named("fc", new Linear(6 * 6 * 6, 5)), named("relu5", new ReLU()));
    }

    private static Layer named(String name, Layer layer) {
        layer.setName(name);
        return layer;
    }

    @ParameterizedTest
    @EnumSource(value = BackendKind.class, names = {"REFERENCE", "DNNL", "SIMD"})
    void fusedModelComputesWhatTheUnfusedOneComputes(BackendKind kind) {
        try (Backend backend = Backends.create(kind); TensorScope scope = new TensorScope();
             Sequential fused = model().compile(backend, BATCH, INPUT, Sequential.Mode.TRAIN, 5);
             Sequential plain = model().fuseActivations(false).compile(backend, BATCH, INPUT, Sequential.Mode.TRAIN, 5)) {
            assertEquals(List.of("conv1+relu1", "conv2+tanh2", "conv3+sig3", "conv4+tanh4"), fused.fusions());
            assertEquals(List.of(), plain.fusions());
            Tensor x = scope.uniform(1, -1, 1, INPUT.prepend(BATCH));
            Tensor diffOut = scope.uniform(2, -1, 1, Shape.of(BATCH, 5));
            Tensor yFused = fused.forward(x), yPlain = plain.forward(x);
            assertClose(kind + " output", yPlain, yFused, 1e-5, 1e-5);
            fused.zeroGrad();
            plain.zeroGrad();
            fused.backward(diffOut);
            plain.backward(diffOut);
            assertClose(kind + " gradients", plain.parameters().grads(), fused.parameters().grads(), 1e-5, 1e-4);
            // the first layer's ReLU is exact: conv1's output (through relu1) is bit for bit the same
            assertBitwise(kind + " relu1", plain.forwardTo(x, plain.indexOf("relu1")), fused.forwardTo(x, fused.indexOf("relu1")));
        }
    }

    @Test void aFusedConvolutionsOwnOutputCannotBeAskedFor() {
        try (Backend backend = Backends.create(BackendKind.DNNL); TensorScope scope = new TensorScope();
             Sequential fused = model().compile(backend, BATCH, INPUT, Sequential.Mode.INFERENCE, 5)) {
            Tensor x = scope.uniform(1, -1, 1, INPUT.prepend(BATCH));
            var e = assertThrows(IllegalArgumentException.class, () -> fused.forwardTo(x, fused.indexOf("conv2")));
            assertTrue(e.getMessage().contains("'tanh2' fused into it") && e.getMessage().contains("fuseActivations(false)"), e.getMessage());
            fused.forwardTo(x, fused.indexOf("tanh2"));   // the activated output is there
        }
    }

    @Test void alexNetFusesItsFiveConvolutionsWithTheirReLUs() {
        try (Backend backend = Backends.create(BackendKind.DNNL);
             Sequential model = AlexNet.paper(10).compile(backend, 1, Shape.of(3, 227, 227), Sequential.Mode.INFERENCE, 1)) {
            assertEquals(5, model.fusions().size(), model.fusions().toString());
            assertTrue(model.fusions().getFirst().startsWith("conv1+"), model.fusions().toString());
        }
    }
}

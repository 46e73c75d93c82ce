package dev.isthmus.nn;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.testing.GradientCheck;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The layer graph on the reference backend: shapes, errors, gradients of a whole model, accumulation. */
class SequentialTest {

    @Test
    void infersLeNet5Shapes() {
        List<Shape> shapes = LeNet5.classic().inferShapes(Shape.of(1, 32, 32));
        assertEquals("[[6, 28, 28], [6, 28, 28], [6, 14, 14], [16, 10, 10], [16, 10, 10], [16, 5, 5], "
                + "[120, 1, 1], [120, 1, 1], [84], [84], [10]]", shapes.toString());
    }

    @Test
    void mismatchedChannelsNameTheLayerAndShapes() {
        var model = new Sequential(new Conv2d(3, 6, 5).named("c1"), new ReLU());
        var e = assertThrows(IllegalArgumentException.class, () -> model.inferShapes(Shape.of(1, 32, 32)));
        assertEquals("layer 'c1' (Conv2d(3->6, k=5)) cannot take input [1, 32, 32]: "
                + "Conv2d(3->6, k=5): input has 1 channels, expected 3; input [1, 32, 32]", e.getMessage());
    }

    @Test
    void mismatchedFeaturesNameTheLayer() {
        var model = new Sequential(new Conv2d(1, 4, 3).named("conv"), new Linear(100, 10).named("fc"));
        var e = assertThrows(IllegalArgumentException.class, () -> model.inferShapes(Shape.of(1, 8, 8)));
        assertTrue(e.getMessage().startsWith("layer 'fc' (Linear(100->10)) cannot take input [4, 6, 6]"), e.getMessage());
        assertTrue(e.getMessage().contains("has 144 features per sample, expected 100"), e.getMessage());
    }

    @Test
    void kernelLargerThanInputIsNamed() {
        var model = new Sequential(new Conv2d(1, 2, 5).named("big"));
        var e = assertThrows(IllegalArgumentException.class, () -> model.inferShapes(Shape.of(1, 3, 3)));
        assertTrue(e.getMessage().contains("layer 'big'") && e.getMessage().contains("kernel height 5 is larger than the padded input height 3"),
                e.getMessage());
    }

    @Test
    void wrongInputTensorShapeIsRejected() {
        try (var backend = new ReferenceBackend(); var model = tinyModel();
             var wrong = Tensor.zeros(3, 2, 8, 8)) {
            model.compile(backend, 2, Shape.of(2, 8, 8), Sequential.Mode.TRAIN, 1);
            var e = assertThrows(IllegalArgumentException.class, () -> model.forward(wrong));
            assertEquals("model input has shape [3, 2, 8, 8], expected [2, 2, 8, 8] (batch 2 of [2, 8, 8])", e.getMessage());
        }
    }

    /** A small model touching every layer type with smooth activations, so finite differences apply. */
    static Sequential tinyModel() {
        return new Sequential(
                new Conv2d(2, 3, 3, 1, 1).named("conv1"), new Tanh(),
                new AvgPool2d(2).named("pool"),
                new Conv2d(3, 4, 3, 2, 1, 1, 1, true).named("conv2"), new ScaledTanh(),
                new Flatten(),
                new Linear(16, 5).named("fc1"), new Sigmoid(),
                new Linear(5, 3).named("fc2"));
    }

    @Test
    void wholeModelGradientsMatchFiniteDifferences() {
        int batch = 2;
        try (var backend = new ReferenceBackend(); var model = tinyModel();
             var x = TestTensors.uniform(11, -1, 1, batch, 2, 8, 8);
             var labels = Tensor.ofInts(new int[] {2, 0});
             var loss = new CrossEntropyLoss()) {
            model.compile(backend, batch, Shape.of(2, 8, 8), Sequential.Mode.TRAIN, 5);
            loss.compile(backend, batch, 3);
            model.zeroGrad();
            loss.forward(model.forward(x), labels);
            model.backward(loss.backward());
            for (Parameter p : model.parameters()) {
                float[] analytic = p.grad().toFloatArray();
                GradientCheck.check(p.name(), p.value(), v -> loss.forward(model.forward(x), labels),
                        analytic, 1e-2, 2e-4, 2e-2);
            }
        }
    }

    @Test
    void gradientsAccumulateUntilZeroGrad() {
        int batch = 2;
        try (var backend = new ReferenceBackend(); var model = tinyModel();
             var x = TestTensors.uniform(3, -1, 1, batch, 2, 8, 8);
             var labels = Tensor.ofInts(new int[] {1, 2});
             var loss = new CrossEntropyLoss()) {
            model.compile(backend, batch, Shape.of(2, 8, 8), Sequential.Mode.TRAIN, 5);
            loss.compile(backend, batch, 3);
            model.zeroGrad();
            loss.forward(model.forward(x), labels);
            model.backward(loss.backward());
            float[] once = model.parameters().grads().toFloatArray();
            loss.forward(model.forward(x), labels);
            model.backward(loss.backward());
            float[] twice = model.parameters().grads().toFloatArray();
            for (int i = 0; i < once.length; i++) assertEquals(2 * once[i], twice[i], 1e-6f + 1e-5f * Math.abs(once[i]), "element " + i);
            model.zeroGrad();
            loss.forward(model.forward(x), labels);
            model.backward(loss.backward());
            float[] again = model.parameters().grads().toFloatArray();
            for (int i = 0; i < once.length; i++) assertEquals(once[i], again[i], 0f, "element " + i);
        }
    }

    @Test
    void inferenceCompileHasNoGradients() {
        try (var backend = new ReferenceBackend(); var model = tinyModel(); var x = Tensor.zeros(1, 2, 8, 8)) {
            model.compile(backend, 1, Shape.of(2, 8, 8), Sequential.Mode.INFERENCE, 1);
            assertFalse(model.parameters().hasGrads());
            assertNull(model.parameters().list().getFirst().grad());
            Tensor out = model.forward(x);
            assertEquals(Shape.of(1, 3), out.shape());
            var e = assertThrows(IllegalStateException.class, () -> model.backward(out));
            assertTrue(e.getMessage().contains("compiled for inference"), e.getMessage());
            assertThrows(IllegalStateException.class, model::train);
        }
    }

    @Test
    void parametersLiveInOneSlabInDeclarationOrder() {
        try (var backend = new ReferenceBackend(); var model = tinyModel()) {
            model.compile(backend, 1, Shape.of(2, 8, 8), Sequential.Mode.TRAIN, 1);
            var names = model.parameters().list().stream().map(Parameter::name).toList();
            assertEquals(List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                    "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"), names);
            long expected = 3 * 2 * 9 + 3 + 4 * 3 * 9 + 4 + 5 * 16 + 5 + 3 * 5 + 3;
            assertEquals(expected, model.parameters().count());
            long offset = 0;
            for (Parameter p : model.parameters()) {
                assertEquals(offset, p.offset(), p.name());
                offset += p.elements();
            }
        }
    }

    @Test
    void closedModelTensorsThrowInsteadOfCrashing() {
        var backend = new ReferenceBackend();
        var model = tinyModel();
        model.compile(backend, 1, Shape.of(2, 8, 8), Sequential.Mode.TRAIN, 1);
        Tensor weights = model.parameters().get("conv1.weight").value();
        model.close();
        var e = assertThrows(IllegalStateException.class, weights::toFloatArray);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> model.forward(Tensor.allocate(Shape.of(1, 2, 8, 8), DType.F32)));
        backend.close();
    }

    @Test
    void seededInitialisationIsReproducibleAndLeCunBounded() {
        try (var backend = new ReferenceBackend(); var a = LeNet5.classic(); var b = LeNet5.classic()) {
            a.compile(backend, 1, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 42);
            b.compile(backend, 1, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 42);
            float[] va = a.parameters().values().toFloatArray();
            assertEquals(java.util.Arrays.toString(va), java.util.Arrays.toString(b.parameters().values().toFloatArray()));
            float[] c1 = a.parameters().get("c1.weight").value().toFloatArray();
            double bound = 2.4 / 25;
            double max = 0;
            for (float v : c1) max = Math.max(max, Math.abs(v));
            assertTrue(max <= bound && max > 0.8 * bound, "c1 weights within LeCun's 2.4/fanIn: max " + max + ", bound " + bound);
        }
    }
}

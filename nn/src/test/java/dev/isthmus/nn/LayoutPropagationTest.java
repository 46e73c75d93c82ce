package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Layouts travel in an inference compile on dnnl: the reorders a model runs per forward (or per
 * training step) are what its report says, LeNet-5 needs none and AlexNet only its input's, the
 * logits equal the plain path's, and weights kept in a primitive's layout round-trip through a
 * checkpoint bit for bit.
 */
class LayoutPropagationTest {
    static DnnlBackend backend;

    @BeforeAll static void open() { backend = new DnnlBackend(); }

    @AfterAll static void close() { backend.close(); }

    @Test
    void leNetInferenceRunsNoReorderAndMatchesThePlainPath() {
        for (int batch : new int[] {1, 5}) {
            try (Sequential inference = LeNet5.classic().compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 7);
                 Sequential plain = LeNet5.classic().compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 7);
                 Tensor x = TestTensors.uniform(3, -0.1f, 1.175f, batch, 1, 32, 32)) {
                assertFalse(inference.outputLayouts().getFirst().isPlain(), "c1's output travels in oneDNN's layout");
                assertEquals(0, inference.reordersPerForward(), inference.layouts());
                assertEquals(inference.reordersPerForward(), countedPerForward(inference, x), "reported vs counted");
                float[] expected = plain.eval().forward(x).toFloatArray();
                assertClose(expected, inference.forward(x).toFloatArray(), 1e-5, "LeNet-5 logits, batch " + batch);
            }
        }
    }

    @Test
    void alexNetInferenceReordersOnlyItsInput() {
        Object[][] variants = {{AlexNet.paper(1000), Shape.of(3, 227, 227)}, {AlexNet.modern(1000), Shape.of(3, 224, 224)}};
        for (Object[] v : variants) {
            Shape in = (Shape) v[1];
            try (Sequential model = ((Sequential) v[0]).compile(backend, 2, in, Sequential.Mode.INFERENCE, 3);
                 Tensor x = TestTensors.uniform(5, -1f, 1f, 2, in.dim(0), in.dim(1), in.dim(2))) {
                assertEquals(1, model.reordersPerForward(), "the input's, into conv1's layout:\n" + model.layouts());
                assertEquals(model.reordersPerForward(), countedPerForward(model, x), "reported vs counted");
            }
        }
    }

    @Test
    void trainingStepReordersAreWhatTheReportSays() {
        int batch = 4;
        try (Sequential model = LeNet5.classic().compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 1);
             var sgd = new SGD(model.parameters(), 0.01f, 0.9f, 5e-4f, false);
             var loss = new CrossEntropyLoss().compile(backend, batch, 10);
             Tensor x = TestTensors.uniform(3, -0.1f, 1.175f, batch, 1, 32, 32);
             Tensor labels = TestTensors.labels(4, batch, 10)) {
            Runnable step = () -> {
                loss.forward(model.forward(x), labels);
                sgd.zeroGrad();
                model.backward(loss.backward());
                sgd.step();
            };
            step.run();
            long r0 = backend.reorderCount();
            step.run();
            assertEquals(model.reordersPerStep(), backend.reorderCount() - r0, "LeNet-5 training step:\n" + model.layouts());
        }
    }

    @Test
    void alexNetTrainingStepReordersAreWhatTheReportSays() {
        int batch = 2;
        try (Sequential model = AlexNet.modern(10).compile(backend, batch, Shape.of(3, 224, 224), Sequential.Mode.TRAIN, 1);
             var sgd = new SGD(model.parameters(), 0.01f, 0.9f, 5e-4f, false);
             var loss = new CrossEntropyLoss().compile(backend, batch, 10);
             Tensor x = TestTensors.uniform(3, -1f, 1f, batch, 3, 224, 224);
             Tensor labels = TestTensors.labels(4, batch, 10)) {
            loss.forward(model.forward(x), labels);
            sgd.zeroGrad();
            long r0 = backend.reorderCount();
            model.backward(loss.backward());
            sgd.step();
            loss.forward(model.forward(x), labels);
            assertEquals(model.reordersPerStep(), backend.reorderCount() - r0, "AlexNet (modern) training step:\n" + model.layouts());
        }
    }

    @Test
    void blockedWeightsRoundTripThroughACheckpointBitForBit(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("lenet.safetensors");
        try (Sequential first = LeNet5.classic().compile(backend, 2, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 11);
             Sequential reference = LeNet5.classic().compile(backend, 2, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 11);
             Sequential second = LeNet5.classic().compile(backend, 2, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 99);
             Tensor x = TestTensors.uniform(3, -0.1f, 1.175f, 2, 1, 32, 32)) {
            Parameter c1 = first.parameters().get("c1.weight");
            assertFalse(c1.value().layout().isPlain(), "c1's weights are kept in oneDNN's layout: " + c1.value().layout().name());
            assertTrue(c1.value().byteSize() > c1.value().plainByteSize(), "and padded (6 filters to a block of 16)");
            Checkpoint.save(file, first, null, Map.of());
            Checkpoint.load(file, second, null);
            for (Parameter p : reference.parameters()) {
                int[] expected = bits(p.value().toFloatArray());   // the plain values the seed gives
                assertArrayEquals(expected, bits(first.parameters().get(p.name()).value().toFloatArray()), p.name() + " saved");
                assertArrayEquals(expected, bits(second.parameters().get(p.name()).value().toFloatArray()), p.name() + " loaded");
            }
            assertArrayEquals(bits(first.forward(x).toFloatArray()), bits(second.forward(x).toFloatArray()), "the same logits");
        }
    }

    /** Reorders the backend ran over one forward after a warm-up one, and tensor conversions (none expected). */
    private static long countedPerForward(Sequential model, Tensor x) {
        model.forward(x);
        long r0 = backend.reorderCount(), c0 = Tensor.conversionCount();
        model.forward(x);
        assertEquals(0, Tensor.conversionCount() - c0, "no tensor converts during a forward");
        return backend.reorderCount() - r0;
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Float.floatToRawIntBits(a[i]);
        return b;
    }

    static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]) / Math.max(1e-3, Math.abs(expected[i])));
        assertTrue(worst <= tolerance, what + ": max relative difference " + worst);
    }

    static Backend dnnl() { return backend; }
}

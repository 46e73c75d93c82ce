package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.simd.SimdBackend;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradients of AlexNet-shaped networks: every op type of {@link AlexNet#paper} (11x11 stride-4
 * convolution, two-group padded convolutions, LRN, overlapping max pooling, dropout, linear
 * layers) in a reduced net, equal on the reference, simd and dnnl backends; and the real
 * AlexNet's forward and gradients, dnnl against simd.
 */
class AlexNetGradientTest {

    /** (3, 51, 51) -> conv 11/4 (8, 11, 11) -> LRN -> pool 3/2 (8, 5, 5) -> grouped conv 5x5 pad 2 (12, 5, 5) -> LRN -> pool (12, 2, 2) -> grouped conv 3x3 pad 1 (8, 2, 2) -> fc 32->16 -> dropout -> fc 16->5. */
    static Sequential reduced(float dropout) {
        Initializer w = Initializer.normal(0.2);
        Initializer b = Initializer.normal(0.1);
        return new Sequential(
                new Conv2d(3, 8, 11, 4, 0).init(Initializer.normal(0.05), b).named("conv1"), new ReLU(),
                new LocalResponseNorm(5, 0.5f, 0.75f, 2f).named("norm1"), new MaxPool2d(3, 2),
                new Conv2d(8, 12, 5, 1, 2, 1, 2, true).init(w, b).named("conv2"), new ReLU(),
                new LocalResponseNorm(5, 0.5f, 0.75f, 2f).named("norm2"), new MaxPool2d(3, 2),
                new Conv2d(12, 8, 3, 1, 1, 1, 2, true).init(w, b).named("conv3"), new ReLU(),
                new Linear(8 * 2 * 2, 16).init(w, b).named("fc1"), new ReLU(),
                new Dropout(dropout),
                new Linear(16, 5).init(w, b).named("fc2"));
    }

    static final Shape REDUCED_INPUT = Shape.of(3, 51, 51);

    /** Loss, logits and parameter gradients of one training step of {@code model} on {@code backend}. */
    private record Step(float loss, float[] logits, float[] grads, java.util.List<String> names, java.util.List<long[]> spans) {}

    private static Step step(Supplier<Sequential> net, Backend backend, Shape input, int batch, int classes, float[] weights) {
        try (var model = net.get();
             var x = TestTensors.uniform(3, -1, 1, batch, input.dim(0), input.dim(1), input.dim(2));
             var labels = Tensor.ofInts(java.util.stream.IntStream.range(0, batch).map(i -> (3 * i + 1) % classes).toArray());
             var loss = new CrossEntropyLoss()) {
            model.compile(backend, batch, input, Sequential.Mode.TRAIN, 5);
            if (weights != null) model.parameters().values().copyFrom(weights);
            loss.compile(backend, batch, classes);
            model.zeroGrad();
            Tensor out = model.forward(x);
            float l = loss.forward(out, labels);
            float[] logits = out.toFloatArray();
            model.backward(loss.backward());
            var names = new java.util.ArrayList<String>();
            var spans = new java.util.ArrayList<long[]>();
            for (Parameter p : model.parameters()) {
                names.add(p.name());
                spans.add(new long[] {p.offset(), p.elements()});
            }
            return new Step(l, logits, model.parameters().grads().toFloatArray(), names, spans);
        }
    }

    private static float[] weights(Supplier<Sequential> net, Shape input) {
        try (var backend = new ReferenceBackend(); var model = net.get()) {
            model.compile(backend, 1, input, Sequential.Mode.INFERENCE, 5);
            return model.parameters().values().toFloatArray();
        }
    }

    private static void assertClose(Step expected, Step actual, double rel) {
        assertEquals(expected.loss(), actual.loss(), 1e-4 + rel * Math.abs(expected.loss()), "loss");
        assertTrue(relativeError(expected.logits(), actual.logits(), 0, expected.logits().length) < rel,
                "logits differ: " + relativeError(expected.logits(), actual.logits(), 0, expected.logits().length));
        StringBuilder bad = new StringBuilder();
        for (int i = 0; i < expected.names().size(); i++) {
            long[] s = expected.spans().get(i);
            double e = relativeError(expected.grads(), actual.grads(), (int) s[0], (int) s[1]);
            if (!(e < rel)) bad.append(expected.names().get(i)).append(": ").append(e).append('\n');
        }
        assertTrue(bad.isEmpty(), "gradients differ (relative L2 error):\n" + bad);
    }

    /** ||a - b|| / max(||a||, tiny) over [from, from + n). */
    static double relativeError(float[] a, float[] b, int from, int n) {
        double d = 0, s = 0;
        for (int i = from; i < from + n; i++) {
            d += (double) (a[i] - b[i]) * (a[i] - b[i]);
            s += (double) a[i] * a[i];
        }
        return Math.sqrt(d) / Math.max(Math.sqrt(s), 1e-30);
    }

    @Test
    void reducedAlexNetAgreesAcrossBackends() {
        Supplier<Sequential> net = () -> reduced(0f);
        float[] w = weights(net, REDUCED_INPUT);
        Step ref, dnnl, simd;
        try (var b = new ReferenceBackend()) { ref = step(net, b, REDUCED_INPUT, 2, 5, w); }
        try (var b = new DnnlBackend()) { dnnl = step(net, b, REDUCED_INPUT, 2, 5, w); }
        try (var b = new SimdBackend()) { simd = step(net, b, REDUCED_INPUT, 2, 5, w); }
        assertClose(ref, dnnl, 1e-4);
        assertClose(ref, simd, 1e-4);
    }

    @Test
    void paperAlexNetAgreesOnDnnlAndSimd() {
        Supplier<Sequential> net = () -> AlexNet.paper(10);
        Shape input = Shape.of(3, AlexNet.PAPER_SIZE, AlexNet.PAPER_SIZE);
        float[] w = weights(net, input);
        Step dnnl, simd;
        try (var b = new DnnlBackend()) { dnnl = step(net, b, input, 1, 10, w); }
        try (var b = new SimdBackend()) { simd = step(net, b, input, 1, 10, w); }
        // With N(0, 0.01) weights and biases 1 the gradients of conv1..conv3 are ill-conditioned:
        // the reference and simd backends (the same LRN and pooling code, different summation
        // orders) already differ by 1.4% (conv1.weight), 0.5% (conv2), 0.1% (conv3); dnnl by as much.
        assertEquals(simd.loss(), dnnl.loss(), 1e-4f, "loss");
        assertTrue(relativeError(simd.logits(), dnnl.logits(), 0, 10) < 1e-5, "logits");
        for (int i = 0; i < simd.names().size(); i++) {
            long[] s = simd.spans().get(i);
            double e = relativeError(simd.grads(), dnnl.grads(), (int) s[0], (int) s[1]);
            String name = simd.names().get(i);
            double tolerance = name.startsWith("conv1") || name.startsWith("conv2") || name.startsWith("conv3") ? 0.1 : 1e-3;
            assertTrue(e < tolerance, name + ": relative gradient error " + e);
        }
    }
}

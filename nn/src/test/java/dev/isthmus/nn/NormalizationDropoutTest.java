package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.testing.GradientCheck;
import dev.isthmus.engine.testing.TensorAssert;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The LocalResponseNorm and Dropout layers inside models, on the reference backend. */
class NormalizationDropoutTest {

    private static Backend backend() { return new ReferenceBackend(); }

    /** PyTorch's formula, in double: b = a / (k + alpha/size * sum of squares over the channel window)^beta. */
    static float[] lrnReference(float[] x, int n, int c, int h, int w, int size, double alpha, double beta, double k) {
        float[] y = new float[x.length];
        int plane = h * w;
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < plane; p++) {
                    double sum = 0;
                    for (int o = ch - (size - 1) / 2; o <= ch + size / 2; o++) {
                        if (o < 0 || o >= c) continue;
                        double v = x[(b * c + o) * plane + p];
                        sum += v * v;
                    }
                    int i = (b * c + ch) * plane + p;
                    y[i] = (float) (x[i] / Math.pow(k + alpha / size * sum, beta));
                }
            }
        }
        return y;
    }

    @Test
    void localResponseNormFollowsPyTorchInTrainingAndInference() {
        int n = 2, c = 7, h = 3, w = 5;
        // Large values so that the normalisation matters: with the paper's constants the divisor reaches ~3.
        try (Backend backend = backend(); var x = TestTensors.uniform(4, -40, 40, n, c, h, w);
             var model = new Sequential(new LocalResponseNorm(5, 5e-4f, 0.75f, 2f).named("norm"))) {
            float[] expected = lrnReference(x.toFloatArray(), n, c, h, w, 5, 5e-4, 0.75, 2);
            model.compile(backend, n, Shape.of(c, h, w), Sequential.Mode.TRAIN, 1);
            TensorAssert.assertClose("LRN training forward", expected, model.forward(x).toFloatArray(), 1e-5, 1e-5);
            model.eval();
            TensorAssert.assertClose("LRN inference forward", expected, model.forward(x).toFloatArray(), 1e-5, 1e-5);
            assertEquals(0, model.parameters().count());
        }
    }

    @Test
    void localResponseNormGradientMatchesFiniteDifferences() {
        int batch = 2;
        try (Backend backend = backend();
             var model = new Sequential(new Conv2d(2, 6, 3, 1, 1).named("conv"), new LocalResponseNorm(3, 0.3f, 0.75f, 1f).named("norm"),
                     new Linear(6 * 4 * 4, 3).named("fc"));
             var x = TestTensors.uniform(9, -2, 2, batch, 2, 4, 4);
             var labels = Tensor.ofInts(new int[] {2, 0});
             var loss = new CrossEntropyLoss()) {
            model.compile(backend, batch, Shape.of(2, 4, 4), Sequential.Mode.TRAIN, 3);
            loss.compile(backend, batch, 3);
            model.zeroGrad();
            loss.forward(model.forward(x), labels);
            model.backward(loss.backward());
            Parameter p = model.parameters().get("conv.weight");
            GradientCheck.check(p.name(), p.value(), v -> loss.forward(model.forward(x), labels),
                    p.grad().toFloatArray(), 1e-2, 2e-4, 2e-2);
        }
    }

    @Test
    void localResponseNormRejectsBadArgumentsAndShapes() {
        assertThrows(IllegalArgumentException.class, () -> new LocalResponseNorm(0));
        var k = assertThrows(IllegalArgumentException.class, () -> new LocalResponseNorm(5, 1e-4f, 0.75f, 0f));
        assertTrue(k.getMessage().startsWith("LocalResponseNorm: "), k.getMessage());
        var model = new Sequential(new Linear(4, 8).named("fc"), new LocalResponseNorm(5).named("norm"));
        var e = assertThrows(IllegalArgumentException.class, () -> model.inferShapes(Shape.of(4)));
        assertTrue(e.getMessage().startsWith("layer 'norm' (LocalResponseNorm(5, alpha=1.0E-4, beta=0.75, k=1.0)) cannot take input [8]"),
                e.getMessage());
        assertTrue(e.getMessage().contains("rank 3 (C, H, W)"), e.getMessage());
    }

    @Test
    void dropoutIsTheIdentityInInferenceWithoutACopy() {
        try (Backend backend = backend(); var x = TestTensors.uniform(1, -1, 1, 4, 10);
             var model = new Sequential(new Dropout(0.5f).named("drop"))) {
            model.compile(backend, 4, Shape.of(10), Sequential.Mode.INFERENCE, 1);
            assertSame(x, model.forward(x));
            model.compile(backend, 4, Shape.of(10), Sequential.Mode.TRAIN, 1);
            model.eval();
            assertSame(x, model.forward(x), "eval() after a training compile");
            model.train();
            assertFalse(x == model.forward(x), "training writes its own buffer");
        }
    }

    @Test
    void dropoutDropsAboutPAndScalesTheRest() {
        int n = 8, features = 1000;
        float p = 0.3f;
        try (Backend backend = backend(); var x = TestTensors.uniform(2, 0.5f, 1.5f, n, features);
             var model = new Sequential(new Dropout(p).named("drop"))) {
            model.compile(backend, n, Shape.of(features), Sequential.Mode.TRAIN, 5);
            float[] in = x.toFloatArray(), out = model.forward(x).toFloatArray();
            int dropped = 0;
            for (int i = 0; i < in.length; i++) {
                if (out[i] == 0f) dropped++;
                else assertEquals(in[i] / (1 - p), out[i], 1e-6f, "element " + i);
            }
            double fraction = (double) dropped / in.length;
            assertEquals(p, fraction, 0.03, "fraction dropped");
        }
    }

    @Test
    void dropoutIsDeterministicForASeedAndDifferentEveryStep() {
        int n = 4, features = 64;
        try (Backend backend = backend(); var x = TestTensors.uniform(3, 1, 2, n, features);
             var a = new Sequential(new Linear(features, features).named("fc"), new Dropout(0.5f).named("drop"));
             var b = new Sequential(new Linear(features, features).named("fc"), new Dropout(0.5f).named("drop"));
             var c = new Sequential(new Linear(features, features).named("fc"), new Dropout(0.5f).named("drop"))) {
            a.compile(backend, n, Shape.of(features), Sequential.Mode.TRAIN, 11);
            b.compile(backend, n, Shape.of(features), Sequential.Mode.TRAIN, 11);
            c.compile(backend, n, Shape.of(features), Sequential.Mode.TRAIN, 12);
            c.parameters().values().copyFrom(a.parameters().values().toFloatArray());   // same weights, other seed
            float[] a1 = a.forward(x).toFloatArray(), a2 = a.forward(x).toFloatArray();
            float[] b1 = b.forward(x).toFloatArray(), b2 = b.forward(x).toFloatArray();
            float[] c1 = c.forward(x).toFloatArray();
            assertArrayEquals(a1, b1, "step 0 of two models compiled with the same seed");
            assertArrayEquals(a2, b2, "step 1 likewise");
            assertFalse(java.util.Arrays.equals(zeros(a1), zeros(a2)), "step 1 draws a new mask");
            assertFalse(java.util.Arrays.equals(zeros(a1), zeros(c1)), "another compile seed draws another mask");
            assertEquals(2, ((Dropout) a.layers().get(1)).steps());
            a.compile(backend, n, Shape.of(features), Sequential.Mode.TRAIN, 11);
            assertArrayEquals(zeros(a1), zeros(a.forward(x).toFloatArray()), "compiling again restarts the steps");
        }
        assertTrue(Dropout.stepSeed(1, 0, 0) != Dropout.stepSeed(1, 1, 0) && Dropout.stepSeed(1, 0, 0) != Dropout.stepSeed(1, 0, 1));
    }

    private static boolean[] zeros(float[] v) {
        boolean[] z = new boolean[v.length];
        for (int i = 0; i < v.length; i++) z[i] = v[i] == 0f;
        return z;
    }

    @Test
    void dropoutBackwardUsesTheForwardsMask() {
        int n = 3, features = 50;
        float p = 0.5f;
        try (Backend backend = backend(); var x = TestTensors.uniform(6, 1, 2, n, features);
             var g = TestTensors.uniform(7, -1, 1, n, features);
             var model = new Sequential(new Linear(features, features).named("fc"), new Dropout(p).named("drop"))) {
            model.compile(backend, n, Shape.of(features), Sequential.Mode.TRAIN, 21);
            Tensor fc = model.forwardTo(x, 0);
            float[] before = fc.toFloatArray();
            float[] out = model.forward(x).toFloatArray();
            Layer drop = model.layers().get(1);
            float[] diff = drop.backward(g, true).toFloatArray();
            float[] gv = g.toFloatArray();
            for (int i = 0; i < out.length; i++) {
                boolean kept = out[i] != 0f || before[i] == 0f;
                assertEquals(kept ? gv[i] / (1 - p) : 0f, diff[i], 1e-6f, "element " + i);
                assertEquals(kept, DropoutPlan.keep(Dropout.stepSeed(21, 1, 0), i, p), "element " + i + " follows DropoutPlan.keep");
            }
        }
    }

    @Test
    void dropoutRejectsProbabilitiesOutsideZeroToOne() {
        for (float p : new float[] {-0.1f, 1f, Float.NaN}) {
            var e = assertThrows(IllegalArgumentException.class, () -> new Dropout(p));
            assertTrue(e.getMessage().startsWith("Dropout: p must be in [0, 1), got "), e.getMessage());
        }
    }
}

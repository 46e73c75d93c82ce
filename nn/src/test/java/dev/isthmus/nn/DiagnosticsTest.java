package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.Mnist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Diagnostics on one epoch of LeNet-5 over 2,048 or 6,400 MNIST digits (seconds each): quiet on the
 * defaults of {@code isthmus lenet}, naming the problem on a learning rate 40 times too large or on
 * LeCun's initialisation scaled by 10; and the measured quantities against direct computations.
 */
class DiagnosticsTest {
    private static Mnist mnist;

    @BeforeAll
    static void load() {
        String shared = System.getProperty("isthmus.shared.dir");
        Path folder = shared == null ? null : Path.of(shared, "data", "mnist");
        assumeTrue(folder != null && Files.isDirectory(folder), "MNIST not found at " + folder + " (../shared/data/mnist)");
        mnist = Mnist.load(folder);
    }

    @AfterAll
    static void close() {
        if (mnist != null) mnist.close();
    }

    /** One epoch of {@code model} over 2,048 digits at {@code lr}, with its weights multiplied by {@code initScale}. */
    private static Diagnostics.EpochReport epoch(Supplier<Sequential> architecture, float lr, float initScale) throws Exception {
        return epoch(architecture, lr, initScale, 2048);
    }

    private static Diagnostics.EpochReport epoch(Supplier<Sequential> architecture, float lr, float initScale, int digits)
            throws Exception {
        ImageDataset train = mnist.train().subset(digits);
        try (Backend backend = new DnnlBackend(); Sequential model = architecture.get()) {
            model.compile(backend, 32, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 1);
            if (initScale != 1f) {
                float[] w = model.parameters().values().toFloatArray();
                for (int i = 0; i < w.length; i++) w[i] *= initScale;
                model.parameters().values().copyFrom(w);
            }
            var diagnostics = new Diagnostics(model, 1);
            try (var sgd = new SGD(model.parameters(), lr, 0.9f, 5e-4f, false);
                 var trainer = new Trainer(model, sgd, Progress.silent());
                 var loader = new BatchLoader(train, train.indices(), 32, 1, true, true, null)) {
                trainer.setStepListener(diagnostics);
                trainer.trainEpoch(loader, 1, 1);
            } catch (TrainingDivergedException e) {
                // the diagnostics of the steps before the divergence are what the test reads
                diagnostics.epochEnd(1);
            }
            Diagnostics.EpochReport r = diagnostics.epochs().getFirst();
            System.out.println("lr " + lr + " init x" + initScale + ": " + r.warnings());
            return r;
        }
    }

    private static List<String> rules(Diagnostics.EpochReport r) {
        return r.warnings().stream().map(w -> w.rule() + ":" + w.layer()).toList();
    }

    @Test
    void defaultsStayQuiet() throws Exception {
        var r = epoch(LeNet5::classic, 0.05f, 1f);
        assertEquals(64, r.samples());
        assertEquals(List.of(), r.warnings(), "warnings on the defaults");
    }

    @Test
    void reluDefaultsStayQuiet() throws Exception {
        var r = epoch(LeNet5::relu, 0.05f, 1f);
        assertEquals(List.of(), r.warnings(), "warnings on the relu variant's defaults");
    }

    @Test
    void tooLargeLearningRateIsNamedInTheFirstEpoch() throws Exception {
        var r = epoch(LeNet5::classic, 2f, 1f);
        List<String> fired = rules(r);
        assertTrue(fired.contains("saturated-early:c5") && fired.contains("update-high:output"),
                "fired: " + fired);
        assertTrue(r.warnings().stream().anyMatch(w -> w.message().contains("learning rate is too large")), "messages: " + r.warnings());
    }

    @Test
    void initialisationTenTimesTooLargeSaturates() throws Exception {
        var r = epoch(LeNet5::classic, 0.05f, 10f, 6400);   // 200 steps: the rule's early window
        List<String> fired = rules(r);
        // the large weights drive C5 and F6 into saturation within the first 200 steps (the defaults: about 1%)
        assertTrue(fired.contains("saturated-early:c5") && fired.contains("saturated-early:f6"), "fired: " + fired);
        assertTrue(r.warnings().stream().anyMatch(w -> w.message().contains("initialisation")), "messages: " + r.warnings());
    }

    @Test
    void oneStepMatchesDirectComputation() throws Exception {
        ImageDataset train = mnist.train().subset(32);   // one batch: one step
        try (Backend backend = new DnnlBackend(); Sequential model = LeNet5.relu()) {
            model.compile(backend, 32, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 3);
            var diagnostics = new Diagnostics(model, 1);
            float[] before = model.parameters().values().toFloatArray();
            try (var sgd = new SGD(model.parameters(), 0.05f, 0.9f, 5e-4f, false);
                 var trainer = new Trainer(model, sgd, Progress.silent());
                 var loader = new BatchLoader(train, train.indices(), 32, 1, true, true, null)) {
                trainer.setStepListener(diagnostics);
                trainer.trainEpoch(loader, 1, 1);
            }
            float[] after = model.parameters().values().toFloatArray();
            Diagnostics.Sample sample = diagnostics.samples().getFirst();
            var report = diagnostics.epochs().getFirst();
            for (int i = 0; i < model.parameters().list().size(); i++) {
                Parameter p = model.parameters().list().get(i);
                float[] g = p.grad().toFloatArray();   // the step's gradient stays until the next zeroGrad
                double g2 = 0, w2 = 0, d2 = 0;
                for (float v : g) g2 += (double) v * v;
                for (long k = p.offset(); k < p.offset() + p.elements(); k++) {
                    w2 += (double) before[(int) k] * before[(int) k];
                    d2 += Math.pow(after[(int) k] - before[(int) k], 2);
                }
                assertEquals(Math.sqrt(g2), sample.gradNorm()[i], 1e-9 * Math.sqrt(g2) + 1e-12, p.name() + " gradient norm");
                assertEquals(Math.sqrt(g2), report.parameters().get(i).gradNorm(), 1e-9 * Math.sqrt(g2) + 1e-12, p.name());
                if (w2 > 0) assertEquals(Math.sqrt(d2 / w2), sample.updateRatio()[i], 1e-9, p.name() + " update/weight");
            }
            for (int j = 0; j < diagnostics.activationLayers().size(); j++) {
                float[] out = model.lastOutput(model.indexOf(diagnostics.activationLayers().get(j))).toFloatArray(); // (N, units)
                int units = out.length / 32, zeros = 0, dead = 0;
                for (float v : out) if (v <= 0) zeros++;
                for (int u = 0; u < units; u++) {
                    boolean active = false;
                    for (int n = 0; n < 32; n++) active |= out[n * units + u] > 0;
                    if (!active) dead++;
                }
                var a = report.activations().get(j);
                assertEquals((double) zeros / out.length, a.zeroFraction(), 1e-12, a.layer() + " zero fraction");
                assertEquals((double) dead / units, a.neverActive(), 1e-12, a.layer() + " never active");
            }
        }
    }
}

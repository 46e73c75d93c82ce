package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.Mnist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** LeNet-5 trained for real on a subset of MNIST (from ../shared/data/mnist), checkpoints, resuming. */
class LeNetTrainingTest {
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

    @Test
    void fewHundredStepsLearnDigits() throws Exception {
        // LeCun's small initialisation gives a plateau of a few hundred steps before the loss falls:
        // 1,200 steps with the default settings of `isthmus lenet` get well past it.
        ImageDataset train = mnist.train().subset(38_400);
        int batch = 32;
        try (Backend backend = new DnnlBackend(); Sequential model = LeNet5.classic()) {
            model.compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 7);
            try (var sgd = new SGD(model.parameters(), 0.05f, 0.9f, 5e-4f, false);
                 var trainer = new Trainer(model, sgd, Progress.silent());
                 var loader = new BatchLoader(train, train.indices(), batch, 7, true, true, null)) {
                double before = trainer.evaluate(mnist.test(), Arrays.copyOf(mnist.test().indices(), 2000)).loss();
                double[] epoch = trainer.trainEpoch(loader, 1, 1);   // 1,200 steps
                Metrics held = trainer.evaluate(mnist.test(), Arrays.copyOf(mnist.test().indices(), 2000));
                assertTrue(held.loss() < before / 4, "loss should fall: " + before + " -> " + held.loss());
                assertTrue(held.top1Error() < 0.10, "accuracy on 2000 held-out digits should pass 90%: error " + held.top1Error());
                assertTrue(epoch[0] < 1.5, "mean training loss of the epoch (chance is 2.30): " + epoch[0]);
            }
        }
    }

    @Test
    void checkpointRoundTripGivesIdenticalPredictions(@TempDir Path dir) throws Exception {
        int batch = 16;
        int[] some = Arrays.copyOf(mnist.test().indices(), 64);
        Path file = dir.resolve("model.safetensors");
        float[] logitsA, logitsB;
        try (Backend backend = new DnnlBackend(); Sequential a = LeNet5.classic(); Sequential b = LeNet5.classic()) {
            a.compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 1);
            b.compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 2);
            try (var sgd = new SGD(a.parameters(), 0.01f, 0.9f, 0f, false);
                 var trainer = new Trainer(a, sgd, Progress.silent());
                 var loader = new BatchLoader(mnist.train().subset(640), mnist.train().subset(640).indices(), batch, 1, true, true, null)) {
                trainer.trainEpoch(loader, 1, 1);
                Checkpoint.save(file, a, sgd, Map.of("epoch", "1"));
                Metrics ma = trainer.evaluate(mnist.test(), some);
                Map<String, String> meta = Checkpoint.load(file, b, null);
                assertEquals("1", meta.get("epoch"));
                assertEquals("40", meta.get(Checkpoint.STEPS));
                try (var evaluator = new Trainer(b, null, Progress.silent())) {
                    Metrics mb = evaluator.evaluate(mnist.test(), some);
                    for (int i = 0; i < some.length; i++) assertEquals(ma.prediction(i), mb.prediction(i), "sample " + i);
                    // the inference compile runs oneDNN's forward_inference on blocked layouts, the training one
                    // its training forward on plain tensors: the same sums in another order
                    assertEquals(ma.loss(), mb.loss(), 1e-6 * ma.loss());
                }
                // parameter by parameter: an inference compile keeps convolution weights in oneDNN's layout,
                // outside the plain slab, and they convert to plain when read
                for (Parameter p : a.parameters()) {
                    logitsA = p.value().toFloatArray();
                    logitsB = b.parameters().get(p.name()).value().toFloatArray();
                    assertArrayEquals(logitsA, logitsB, p.name());
                }
            }
        }
    }

    @Test
    void loadingIntoAMismatchedModelNamesTheTensor(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.safetensors");
        try (Backend backend = new ReferenceBackend(); Sequential classic = LeNet5.classic();
             Sequential other = new Sequential(new Conv2d(1, 8, 5).named("c1"), new ReLU(), new Linear(8 * 28 * 28, 10).named("output"))) {
            classic.compile(backend, 1, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 1);
            other.compile(backend, 1, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 1);
            Checkpoint.save(file, classic, null, Map.of());
            var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(file, other, null));
            assertTrue(e.getMessage().contains("c1.weight: shape [6, 1, 5, 5] in file, model expects [8, 1, 5, 5]"), e.getMessage());
        }
    }

    /** Two epochs straight equal one epoch, a checkpoint, a fresh process-like restart and a second epoch. */
    @Test
    void resumedRunContinuesFromTheSameState(@TempDir Path dir) throws Exception {
        ImageDataset train = mnist.train().subset(256);
        int batch = 16;
        Path file = dir.resolve("resume.safetensors");
        float[] straight, resumed;
        try (Backend backend = new ReferenceBackend()) {
            try (Sequential m = LeNet5.relu().compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 3);
                 var adam = new Adam(m.parameters(), 1e-3f);
                 var trainer = new Trainer(m, adam, Progress.silent());
                 var loader = new BatchLoader(train, train.indices(), batch, 5, true, true, null)) {
                trainer.trainEpoch(loader, 1, 2);
                Checkpoint.save(file, m, adam, Map.of("epoch", "1"));
                trainer.trainEpoch(loader, 2, 2);
                straight = m.parameters().values().toFloatArray();
            }
            try (Sequential m = LeNet5.relu().compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 99);
                 var adam = new Adam(m.parameters(), 1e-3f);
                 var trainer = new Trainer(m, adam, Progress.silent());
                 var loader = new BatchLoader(train, train.indices(), batch, 5, true, true, null)) {
                Checkpoint.load(file, m, adam);
                assertEquals(16, adam.steps());
                trainer.trainEpoch(loader, 2, 2);
                resumed = m.parameters().values().toFloatArray();
            }
        }
        assertArrayEquals(straight, resumed, "resumed weights differ from an uninterrupted run");
    }

    @Test
    void divergingLossStopsWithEpochAndBatch() {
        ImageDataset train = mnist.train().subset(512);
        try (Backend backend = new ReferenceBackend();
             Sequential m = LeNet5.relu().compile(backend, 16, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 3);
             var sgd = new SGD(m.parameters(), 1e6f);
             var trainer = new Trainer(m, sgd, Progress.silent());
             var loader = new BatchLoader(train, train.indices(), 16, 5, true, true, null)) {
            var e = assertThrows(TrainingDivergedException.class, () -> trainer.trainEpoch(loader, 3, 3));
            assertEquals(3, e.epoch());
            assertTrue(e.getMessage().startsWith("training diverged: loss is "), e.getMessage());
            assertTrue(e.getMessage().contains("at epoch 3, batch " + e.batch()), e.getMessage());
        }
    }

    @Test
    void earlyStoppingKeepsTheBestWeights() throws Exception {
        ImageDataset train = mnist.train().subset(1024);
        ImageDataset.Split split = train.split(256, 1);
        try (Backend backend = new DnnlBackend();
             Sequential m = LeNet5.classic().compile(backend, 32, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 3);
             var sgd = new SGD(m.parameters(), 0.02f, 0.9f, 0f, false);
             var trainer = new Trainer(m, sgd, Progress.silent());
             var loader = new BatchLoader(train, split.train(), 32, 5, true, true, null)) {
            List<Trainer.EpochStats> history = trainer.fit(loader, train, split.validation(), null,
                    new Trainer.Options(6, 1, LrSchedule.constant(), false), 0, null);
            double best = history.stream().mapToDouble(Trainer.EpochStats::validationError).min().orElseThrow();
            trainer.restoreBest();
            double now = trainer.evaluate(train, split.validation()).top1Error();
            assertEquals(best, now, 1e-9, "the restored weights give the best validation error");
        }
    }
}

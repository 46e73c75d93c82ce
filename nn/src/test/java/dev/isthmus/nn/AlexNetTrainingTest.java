package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.reference.ReferenceBackend;
import dev.isthmus.engine.testing.TestTensors;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.ImageFolder;
import dev.isthmus.nn.data.Shapes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An AlexNet-shaped network in miniature (grouped convolution, ReLU, LRN, overlapping max
 * pooling, dropout, linear layers) trained on a tiny generated Shapes folder through
 * ImageFolder's loaders and the Trainer; evaluation over loaders, ten crops; metrics; forwardTo.
 */
class AlexNetTrainingTest {
    static final int CLASSES = 4, PER_CLASS = 24, STORED = 40, CROP = 32;

    @TempDir
    static Path tmp;
    private static ImageFolder folder;

    @BeforeAll
    static void generate() {
        Shapes.write(tmp.resolve("shapes"), CLASSES, PER_CLASS, STORED, 3);
        folder = ImageFolder.load(tmp.resolve("shapes"), STORED, 2);
    }

    @AfterAll
    static void close() {
        if (folder != null) folder.close();
    }

    /** 32x32 -> conv 5x5 (16, 32, 32) -> LRN -> pool 3/2 (16, 15, 15) -> grouped conv (32, 15, 15) -> pool 3/2 (32, 7, 7). */
    static Sequential miniAlexNet() {
        Initializer w = Initializer.heNormal();
        Initializer zero = Initializer.zeros();
        return new Sequential(
                new Conv2d(3, 16, 5, 1, 2).init(w, zero).named("conv1"), new ReLU().named("relu1"),
                new LocalResponseNorm(5, 5e-4f, 0.75f, 2f).named("norm1"), new MaxPool2d(3, 2).named("pool1"),
                new Conv2d(16, 32, 3, 1, 1, 1, 2, true).init(w, zero).named("conv2"), new ReLU().named("relu2"),
                new MaxPool2d(3, 2).named("pool2"),
                new Linear(32 * 7 * 7, 64).init(w, zero).named("fc3"), new ReLU().named("relu3"),
                new Dropout(0.5f).named("drop3"),
                new Linear(64, CLASSES).init(Initializer.glorotUniform(), zero).named("fc4"));
    }

    @Test
    void aFewDozenStepsMakeTheLossFall() throws Exception {
        int batch = 8;
        ImageDataset.Split split = folder.split(0.25, 1);
        float[] mean = folder.mean(split.train());
        try (Backend backend = new ReferenceBackend(); Sequential model = miniAlexNet()) {
            model.compile(backend, batch, Shape.of(3, CROP, CROP), Sequential.Mode.TRAIN, 7);
            // Pixels are in [0, 255]: scale them to about unit range for this small He-initialised net.
            var train = new ImageFolder.Transform(CROP, ImageFolder.Crop.RANDOM, mean, folder.pca(split.train(), 50, 1), 0.1, 1f / 64);
            var centre = new ImageFolder.Transform(CROP, ImageFolder.Crop.CENTER, mean, null, 0, 1f / 64);
            try (var sgd = new SGD(model.parameters(), 0.01f, 0.9f, 5e-4f, false);
                 var trainer = new Trainer(model, sgd, Progress.silent());
                 var loader = folder.loader(split.train(), batch, 7, train, true, true);
                 var validation = folder.loader(split.validation(), 5, 0, centre, false, false)) {
                Metrics before = trainer.evaluate(validation);
                assertEquals(split.validation().length, before.count());
                List<Trainer.EpochStats> history = trainer.fit(loader, () -> trainer.evaluate(validation), null,
                        new Trainer.Options(4, 0, LrSchedule.reduceOnPlateau(0.1f, 2, 1e-5f), false), 0, null);
                assertEquals(4, history.size());
                assertEquals(9, loader.batchesPerEpoch(), "72 training images in batches of 8: 36 steps in all");
                Trainer.EpochStats first = history.getFirst(), last = history.getLast();
                assertTrue(last.trainLoss() < 0.8 * first.trainLoss(),
                        "training loss should fall: " + first.trainLoss() + " -> " + last.trainLoss());
                Metrics after = trainer.evaluate(validation);
                assertTrue(after.loss() < before.loss(), "validation loss should fall: " + before.loss() + " -> " + after.loss());
                assertTrue(last.trainTop5Error() <= last.trainError() && last.validationTop5Error() == 0,
                        "4 classes: the truth is always in the top 5");
                assertEquals(after.top1Error(), last.validationError(), 1e-12, "fit's validation is evaluate(loader)");
            }
        }
    }

    @Test
    void loaderEvaluationIsIndependentOfTheLoaderBatchAndTenCropAveragesSoftmax() {
        int batch = 6;
        int[] some = java.util.Arrays.copyOf(folder.indices(), 23);
        float[] mean = folder.mean(some);
        var centre = ImageFolder.Transform.center(CROP, mean);
        try (Backend backend = new ReferenceBackend(); Sequential model = miniAlexNet()) {
            model.compile(backend, batch, Shape.of(3, CROP, CROP), Sequential.Mode.INFERENCE, 5);
            try (var trainer = new Trainer(model, null, Progress.silent());
                 var same = folder.loader(some, batch, 0, centre, false, false);
                 var other = folder.loader(some, 4, 0, centre, false, false);
                 var ten = folder.loader(some, 3, 0, ImageFolder.Transform.tenCrop(CROP, mean), false, false)) {
                Metrics a = trainer.evaluate(same), b = trainer.evaluate(other), t = trainer.evaluate(ten);
                assertEquals(some.length, a.count());
                assertEquals(a.loss(), b.loss(), 1e-6);
                for (int i = 0; i < some.length; i++) assertEquals(a.prediction(i), b.prediction(i), "sample " + i);
                assertEquals(some.length, t.count());
                assertTrue(Double.isFinite(t.loss()) && t.loss() > 0, "ten-crop loss " + t.loss());
            }
        }
    }

    @Test
    void topFiveErrorOnHandMadeLogits() {
        Metrics m = new Metrics(7, 4);
        float[] logits = {
                0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f,   // label 4 ranks fifth: top-1 wrong, top-5 right
                0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f,   // label 5 ranks sixth: both wrong
                0.1f, 3.0f, 0.2f, 0.0f, 0.0f, 0.0f, 0.0f,   // label 1 is first: both right
                1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f};  // all tied, label 6: ties rank by index, sixth place -> wrong
        int[] labels = {4, 5, 1, 6};
        for (int i = 0; i < labels.length; i++) m.add(logits, i * 7, labels[i]);
        assertEquals(3.0 / 4, m.top1Error(), 1e-12);
        assertEquals(2.0 / 4, m.top5Error(), 1e-12);
        assertEquals(1, m.prediction(2));
    }

    @Test
    void forwardToReturnsAnIntermediateLayersOutput() {
        int batch = 2;
        try (Backend backend = new ReferenceBackend(); Sequential model = miniAlexNet();
             var x = TestTensors.uniform(1, -1, 1, batch, 3, CROP, CROP)) {
            model.compile(backend, batch, Shape.of(3, CROP, CROP), Sequential.Mode.INFERENCE, 1);
            int relu3 = model.indexOf("relu3");
            Tensor features = model.forwardTo(x, relu3);
            assertEquals(Shape.of(batch, 64), features.shape());
            float[] f = features.toFloatArray();
            for (float v : f) assertTrue(v >= 0, "after ReLU");
            Tensor logits = model.forward(x);
            assertSame(features, model.forwardTo(x, relu3), "the layer's own buffer");
            assertArrayEquals(f, features.toFloatArray());
            assertEquals(Shape.of(batch, CLASSES), logits.shape());
            assertThrows(IllegalArgumentException.class, () -> model.forwardTo(x, model.layers().size()));
            var e = assertThrows(IllegalArgumentException.class, () -> model.indexOf("fc9"));
            assertTrue(e.getMessage().startsWith("no layer 'fc9'; the model has [conv1, relu1, norm1"), e.getMessage());
        }
    }
}

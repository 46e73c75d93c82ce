package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.ImageFolder;
import dev.isthmus.nn.data.Shapes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The recipe of {@code isthmus alexnet --synthetic} (He initialisation, unit-variance inputs,
 * SGD with momentum after a short linear warm-up) on a narrow AlexNet with every layer of
 * {@link AlexNet#paper} at a reduced resolution: a few dozen steps on a tiny generated Shapes
 * folder must take the loss well below chance, ln(classes). With the paper's N(0, 0.01) weights
 * and biases 1 the same run stays at chance (the hidden layers are nearly constant), which is
 * what this guards against.
 */
class AlexNetLearningTest {
    static final int CLASSES = 4, PER_CLASS = 30, STORED = 76, CROP = 67;

    @TempDir
    Path tmp;

    /**
     * AlexNet.paper's layers at a sixth of the width on 67x67 inputs: conv1 11x11/4 (16, 15, 15),
     * LRN, pool (16, 7, 7), conv2 5x5 pad 2 in 2 groups (32, 7, 7), LRN, pool (32, 3, 3), conv3
     * (48), conv4 and conv5 in 2 groups (48, 32), pool5 (32, 1, 1), fc6 and fc7 (64) with dropout, fc8.
     */
    static Sequential narrowAlexNet(int classes) {
        Initializer w = Initializer.normal(0.01);
        Initializer zero = Initializer.zeros(), one = Initializer.constant(1f);
        return new Sequential(
                new Conv2d(3, 16, 11, 4, 0).init(w, zero).named("conv1"), new ReLU(),
                new LocalResponseNorm(5, 5e-4f, 0.75f, 2f).named("norm1"), new MaxPool2d(3, 2),
                new Conv2d(16, 32, 5, 1, 2, 1, 2, true).init(w, one).named("conv2"), new ReLU(),
                new LocalResponseNorm(5, 5e-4f, 0.75f, 2f).named("norm2"), new MaxPool2d(3, 2),
                new Conv2d(32, 48, 3, 1, 1).init(w, zero).named("conv3"), new ReLU(),
                new Conv2d(48, 48, 3, 1, 1, 1, 2, true).init(w, one).named("conv4"), new ReLU(),
                new Conv2d(48, 32, 3, 1, 1, 1, 2, true).init(w, one).named("conv5"), new ReLU(),
                new MaxPool2d(3, 2),
                new Linear(32, 64).init(w, one).named("fc6"), new ReLU(), new Dropout(0.5f),
                new Linear(64, 64).init(w, one).named("fc7"), new ReLU(), new Dropout(0.5f),
                new Linear(64, classes).init(w, zero).named("fc8"));
    }

    @Test
    void heInitialisedNarrowAlexNetLearnsShapesInAFewDozenSteps() throws Exception {
        Shapes.write(tmp.resolve("shapes"), CLASSES, PER_CLASS, STORED, 11);
        int batch = 8;
        double chance = Math.log(CLASSES);
        try (ImageFolder folder = ImageFolder.load(tmp.resolve("shapes"), STORED, 2);
             Backend backend = Boolean.getBoolean("ref") ? new dev.isthmus.engine.reference.ReferenceBackend() : new DnnlBackend();
             Sequential model = AlexNet.heInit(narrowAlexNet(CLASSES))) {
            ImageDataset.Split split = folder.split(0.2, 1);
            float[] mean = folder.mean(split.train());
            float scale = 1f / folder.std(split.train(), mean);
            assertTrue(scale > 1f / 255 && scale < 1, "1 / std of pixel values: " + scale);
            model.compile(backend, batch, Shape.of(3, CROP, CROP), Sequential.Mode.TRAIN, 3);
            try (var sgd = new Adam(model.parameters(), 1e-3f);
                 var trainer = new Trainer(model, sgd, Progress.silent());
                 var loader = folder.loader(split.train(), batch, 3, ImageFolder.Transform.train(CROP, mean, null, scale), true, true);
                 var validation = folder.loader(split.validation(), batch, 0, ImageFolder.Transform.center(CROP, mean, scale), false, false)) {
                List<Trainer.EpochStats> history = trainer.fit(loader, () -> trainer.evaluate(validation), null,
                        new Trainer.Options(8, 0, LrSchedule.constant(), false, 10), 0, null);
                assertEquals(12, loader.batchesPerEpoch(), "96 training images in batches of 8: 96 steps in all");
                assertEquals(8 * 12, sgd.steps());
                assertEquals(1e-3f, sgd.lr(), "the warm-up ends at --lr");
                for (var s : history) System.out.printf("epoch %d loss %.4f train error %.3f validation error %.3f%n",
                        s.epoch(), s.trainLoss(), s.trainError(), s.validationError());
                Trainer.EpochStats last = history.getLast();
                assertTrue(last.trainLoss() < 0.6 * chance, "training loss should fall well below chance " + chance + ": " + last.trainLoss());
                assertTrue(last.validationError() < 0.5, "validation error should be well below chance 0.75: " + last.validationError());
            }
        }
    }
}

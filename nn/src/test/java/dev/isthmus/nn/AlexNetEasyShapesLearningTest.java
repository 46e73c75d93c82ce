package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.ImageFolder;
import dev.isthmus.nn.data.Shapes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The recipe of {@code isthmus alexnet --synthetic} in miniature: a reduced-width AlexNet-shaped
 * network (strided large-kernel convolution, ReLU, LRN, overlapping max pooling, grouped
 * convolutions, dropout 0.5 before two hidden linear layers, He initialisation with a small logit
 * layer, unit-scale input, Adam (1e-3: a small network takes a larger step than the full one's 3e-4) with L2 5e-4 and warm-up, batch 16) on a tiny 10-class
 * {@link Shapes.Difficulty#EASY} folder at 48x48 must get well below chance (90% top-1 error) on
 * held-out images within a couple of hundred steps. Guards against the data or the recipe
 * drifting back to "stays at chance".
 */
class AlexNetEasyShapesLearningTest {
    static final int CLASSES = 10, PER_CLASS = 40, STORED = 56, CROP = 48, BATCH = 16;

    @TempDir
    Path tmp;

    /** 48 -> conv 7x7/2 (24, 21, 21) -> LRN -> pool (24, 10, 10) -> grouped conv (48) -> pool (48, 4, 4) -> conv, grouped conv -> fc. */
    static Sequential miniAlexNet() {
        return AlexNet.heInit(new Sequential(
                new Conv2d(3, 24, 7, 2, 0).named("conv1"), new ReLU().named("relu1"),
                new LocalResponseNorm(5, 5e-4f, 0.75f, 2f).named("norm1"), new MaxPool2d(3, 2).named("pool1"),
                new Conv2d(24, 48, 5, 1, 2, 1, 2, true).named("conv2"), new ReLU().named("relu2"),
                new LocalResponseNorm(5, 5e-4f, 0.75f, 2f).named("norm2"), new MaxPool2d(3, 2).named("pool2"),
                new Conv2d(48, 64, 3, 1, 1).named("conv3"), new ReLU().named("relu3"),
                new Conv2d(64, 48, 3, 1, 1, 1, 2, true).named("conv5"), new ReLU().named("relu5"),
                new Linear(48 * 4 * 4, 128).named("fc6"), new ReLU().named("relu6"), new Dropout(0.5f).named("drop6"),
                new Linear(128, 128).named("fc7"), new ReLU().named("relu7"), new Dropout(0.5f).named("drop7"),
                new Linear(128, CLASSES).named("fc8")));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void learnsEasyShapesWellBelowChance() throws Exception {
        long t0 = System.nanoTime();
        Shapes.write(tmp.resolve("easy"), CLASSES, PER_CLASS, STORED, 11, Shapes.Difficulty.EASY);
        try (ImageFolder folder = ImageFolder.load(tmp.resolve("easy"), STORED, 2);
             Backend backend = new DnnlBackend(); Sequential model = miniAlexNet()) {
            assertEquals(Shapes.EASY_CLASSES.stream().sorted().toList(), folder.classes());
            ImageDataset.Split split = folder.split(0.2, 1);
            float[] mean = folder.mean(split.train());
            float scale = 1f / folder.std(split.train(), mean);
            model.compile(backend, BATCH, Shape.of(3, CROP, CROP), Sequential.Mode.TRAIN, 3);
            var train = ImageFolder.Transform.train(CROP, mean, folder.pca(split.train(), 50, 1), scale);
            var centre = ImageFolder.Transform.center(CROP, mean, scale);
            int epochs = 12;
            try (var adam = new Adam(model.parameters(), 1e-3f, 0.9f, 0.999f, 1e-8f, 5e-4f, false);
                 var trainer = new Trainer(model, adam, Progress.silent());
                 var loader = folder.loader(split.train(), BATCH, 5, train, true, true);
                 var validation = folder.loader(split.validation(), BATCH, 0, centre, false, false)) {
                List<Trainer.EpochStats> history = trainer.fit(loader, () -> trainer.evaluate(validation), null,
                        new Trainer.Options(epochs, 0, LrSchedule.reduceOnPlateau(0.1f, 3, 1e-5f), false, 20), 0, null);
                double best = history.stream().mapToDouble(Trainer.EpochStats::validationError).min().orElseThrow();
                double seconds = (System.nanoTime() - t0) / 1e9;
                StringBuilder curve = new StringBuilder();
                for (var s : history) curve.append(String.format(" %.2f/%.2f", s.trainLoss(), s.validationError()));
                assertTrue(best < 0.5, "validation top-1 error should fall well below chance (0.9) in "
                        + epochs * loader.batchesPerEpoch() + " steps; loss/val error per epoch:" + curve);
                assertTrue(history.getLast().trainLoss() < 0.7 * history.getFirst().trainLoss(), "training loss should fall:" + curve);
                System.out.printf("easy Shapes, mini AlexNet: %d steps, loss/val top-1 per epoch:%s (%.1f s)%n",
                        epochs * loader.batchesPerEpoch(), curve, seconds);
            }
        }
    }
}

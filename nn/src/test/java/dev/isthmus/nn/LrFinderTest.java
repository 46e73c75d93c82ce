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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The learning-rate range test on LeNet-5 (ReLU) and 9,600 MNIST digits: the schedule, the smoothing, the stop and the rule. */
class LrFinderTest {
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
    void rateGrowsExponentially() {
        assertEquals(1e-5, LrFinder.rate(1e-5, 10, 0, 301), 1e-18);
        assertEquals(1e-2, LrFinder.rate(1e-5, 10, 150, 301), 1e-15);
        assertEquals(10, LrFinder.rate(1e-5, 10, 300, 301), 1e-12);
    }

    @Test
    void findsTheMinimumAndStopsWhenTheLossExplodes() {
        ImageDataset train = mnist.train().subset(9600);
        try (Backend backend = new DnnlBackend(); Sequential model = LeNet5.relu()) {
            model.compile(backend, 32, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 1);
            try (var sgd = new SGD(model.parameters(), 0.05f, 0.9f, 5e-4f, false);
                 var loader = new BatchLoader(train, train.indices(), 32, 1, true, true, null)) {
                var r = LrFinder.run(model, sgd, loader, 1e-4, 10, 300, Progress.silent());
                // smoothing: the first smoothed value is the first loss (bias correction), then an EMA
                assertEquals(r.losses()[0], r.smoothed()[0], 1e-6);
                double avg = (1 - LrFinder.BETA) * r.losses()[0];
                avg = LrFinder.BETA * avg + (1 - LrFinder.BETA) * r.losses()[1];
                assertEquals(avg / (1 - LrFinder.BETA * LrFinder.BETA), r.smoothed()[1], 1e-6);
                int argmin = 0;
                for (int i = 0; i < r.steps(); i++) if (r.smoothed()[i] < r.smoothed()[argmin]) argmin = i;
                assertEquals(r.lrs()[argmin], r.minLr(), 0);
                assertEquals(r.minLr() / 10, r.suggested(), 1e-15);
                assertTrue(r.minLoss() < 1.0, "the smoothed loss should fall well below chance (2.30): " + r.minLoss());
                // SGD with momentum 0.9 cannot train LeNet-5 at lr 10: past the minimum the loss climbs back
                assertTrue(r.smoothed()[r.steps() - 1] > 2 * r.minLoss(), "last smoothed loss " + r.smoothed()[r.steps() - 1]);
                assertTrue(r.minLr() > 1e-3 && r.minLr() < 1, "minimum at " + r.minLr());
            }
        }
    }
}

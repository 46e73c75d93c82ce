package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.Distortions;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.Mnist;
import org.junit.jupiter.api.Test;

import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LeNet-5 training steps fed by a loader with and without the MNIST
 * distortions, in the same JVM, the two alternating epoch by epoch so that
 * whatever else runs on the machine slows both alike: the ratio of their
 * images/s is the cost of --distort, printed. Before the distortion kernels
 * and with the loader on one thread the ratio was about 0.3 (5,000-5,500
 * against 15,000-19,000 images/s). DESIGN.md: tests never assert timings, so the ratio is
 * checked only when asked for ({@code -Disthmus.assertTimings=true}, on a quiet machine); by
 * default the test runs both paths and prints the figure.
 */
class DistortedTrainingThroughputTest {

    @Test
    void distortedBatchesCostTheStepLittle() {
        int n = 2048, batch = 32, rounds = 10;
        Random random = new Random(1);
        float[] images = new float[n * 1024];
        int[] labels = new int[n];
        for (int i = 0; i < images.length; i++) images[i] = random.nextFloat() < 0.2f ? 1.175f : Mnist.BACKGROUND;
        for (int i = 0; i < n; i++) labels[i] = random.nextInt(10);
        try (Backend backend = new DnnlBackend();
             ImageDataset data = ImageDataset.copyOf("noise", 1, 32, 32, images, labels);
             Sequential model = LeNet5.classic().compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 1);
             var sgd = new SGD(model.parameters(), 0.01f, 0.9f, 5e-4f, false);
             var loss = new CrossEntropyLoss().compile(backend, batch, 10);
             Tensor x = backend.allocate(Shape.of(batch, 1, 32, 32), DType.F32);
             Tensor y = backend.allocate(Shape.of(batch), DType.S32);
             var plain = new BatchLoader(data, data.indices(), batch, 1, true, true, null, 1);
             var distorted = new BatchLoader(data, data.indices(), batch, 1, true, true, Distortions.mnist(), 1)) {
            epoch(plain, 0, model, sgd, loss, x, y); // warm-up of both paths
            epoch(distorted, 0, model, sgd, loss, x, y);
            double plainSeconds = 0, distortedSeconds = 0, wait = 0;
            for (int r = 1; r <= rounds; r++) {
                plainSeconds += epoch(plain, r, model, sgd, loss, x, y);
                distortedSeconds += epoch(distorted, r, model, sgd, loss, x, y);
                wait += distorted.lastEpoch().waitSeconds();
            }
            double seen = (double) rounds * (n / batch) * batch;
            double ratio = plainSeconds / distortedSeconds;
            System.out.printf(Locale.ROOT, "LeNet-5 steps, batch %d, %d alternating epochs of %d images: %,.0f img/s plain,"
                    + " %,.0f img/s distorted (loader alone %,.0f img/s, the step waited %.1f%%): ratio %.2f%n",
                    batch, rounds, n, seen / plainSeconds, seen / distortedSeconds,
                    distorted.lastEpoch().imagesPerSecond(), 100 * wait / distortedSeconds, ratio);
            if (Boolean.getBoolean("isthmus.assertTimings")) {
                assertTrue(ratio > 0.6, "distorted training ran at " + ratio + "x the plain images/s");
            }
        }
    }

    private static double epoch(BatchLoader loader, int e, Sequential model, SGD sgd, CrossEntropyLoss loss, Tensor x,
            Tensor y) {
        long t0 = System.nanoTime();
        for (BatchLoader.Batch b : loader.epoch(e)) {
            x.copyFromHost(b.images());
            y.copyFromHost(b.labels());
            loss.forward(model.forward(x), y);
            sgd.zeroGrad();
            model.backward(loss.backward());
            sgd.step();
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}

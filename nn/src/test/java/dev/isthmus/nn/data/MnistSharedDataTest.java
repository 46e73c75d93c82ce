package dev.isthmus.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real MNIST from the shared data folder (system property
 * {@code isthmus.shared.dir}, set by Surefire); skipped when it is absent.
 */
class MnistSharedDataTest {

    private static Mnist mnist;
    private static Path folder;

    static Path sharedMnist() {
        String shared = System.getProperty("isthmus.shared.dir");
        Assumptions.assumeTrue(shared != null, "system property isthmus.shared.dir is not set: no shared MNIST");
        Path dir = Path.of(shared, "data", "mnist");
        Assumptions.assumeTrue(MnistFiles.in(dir).isPresent(), "no shared MNIST in " + dir + ": " + MnistFiles.missing(dir));
        return dir;
    }

    @BeforeAll
    static void load() {
        folder = sharedMnist();
        mnist = Mnist.load(folder);
    }

    @AfterAll
    static void close() {
        if (mnist != null) {
            mnist.close();
        }
    }

    @Test
    void countsAndFirstLabels() {
        assertEquals(60000, mnist.train().count());
        assertEquals(10000, mnist.test().count());
        assertArrayEquals(new int[] {5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, Arrays.copyOf(mnist.train().labels(), 10));
        assertArrayEquals(new int[] {7, 2, 1, 0, 4, 1, 4, 9, 5, 9}, Arrays.copyOf(mnist.test().labels(), 10));
        assertEquals(60000L * 32 * 32 * 4, mnist.train().images().byteSize());
        assertEquals(60000L * 28 * 28, mnist.train().raw().byteSize());
    }

    @Test
    void theFilesHaveTheCanonicalHashes() {
        MnistFiles files = MnistFiles.in(folder).orElseThrow();
        Path[] paths = {files.trainImages(), files.trainLabels(), files.testImages(), files.testLabels()};
        for (int i = 0; i < 4; i++) {
            String name = MnistFiles.NAMES.get(i);
            assertEquals(MnistLocator.SHA256.get(name), MnistLocator.sha256(Idx.readAllBytes(paths[i])), name);
        }
    }

    @Test
    void preprocessingRangeBorderMeanAndVariance() {
        for (ImageDataset split : new ImageDataset[] {mnist.train(), mnist.test()}) {
            MemorySegment images = split.images(); // (N, 1, 32, 32)
            long floats = images.byteSize() / Float.BYTES;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            double sum = 0;
            double sumSq = 0;
            long badBorder = 0;
            for (long k = 0; k < floats; k++) {
                float v = images.getAtIndex(ValueLayout.JAVA_FLOAT, k);
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
                sumSq += (double) v * v;
                int y = (int) (k % 1024) / 32;
                int x = (int) (k % 32);
                if ((y < 2 || y >= 30 || x < 2 || x >= 30) && v != -0.1f) {
                    badBorder++;
                }
            }
            double mean = sum / floats;
            double variance = sumSq / floats - mean * mean;
            System.out.printf("%s: min %s max %s mean %.5f variance %.5f (std %.5f) over %d values%n",
                    split.name(), min, max, mean, variance, Math.sqrt(variance), floats);
            assertEquals(0, badBorder, "border pixels that are not background");
            assertEquals(-0.1f, min);
            assertEquals(1.175f, max);
            // LeCun et al. say this mapping makes "the mean input roughly 0, and the variance roughly 1".
            // The mean is near 0 indeed; the variance of MNIST under it is about 0.12 (std 0.35), not 1.
            assertEquals(0.0, mean, 0.05, "mean");
            assertEquals(0.12, variance, 0.02, "variance");
        }
    }

    @Test
    void theRawDigitIsTheCentreOfThePreprocessedImage() {
        ImageDataset test = mnist.test();
        for (int i : new int[] {0, 1, 4999, 9999}) {
            byte[] raw = test.rawImage(i);
            float[] image = test.image(i).toArray(ValueLayout.JAVA_FLOAT);
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    assertEquals(Mnist.scale(raw[y * 28 + x] & 0xff), image[(y + 2) * 32 + x + 2]);
                }
            }
        }
    }

    @Test
    void seededValidationSplit() {
        ImageDataset train = mnist.train();
        ImageDataset.Split split = train.split(5000, 42);
        assertEquals(55000, split.train().length);
        assertEquals(5000, split.validation().length);
        int[] all = IntStream.concat(Arrays.stream(split.train()), Arrays.stream(split.validation())).sorted().toArray();
        assertArrayEquals(train.indices(), all);
        assertArrayEquals(split.validation(), train.split(5000, 42).validation());
        assertNotEquals(Arrays.toString(split.validation()), Arrays.toString(train.split(5000, 43).validation()));
        assertThrows(IllegalArgumentException.class, () -> train.split(60001, 1));
    }

    @Test
    void subsetIsAViewOfTheFirstSamples() {
        ImageDataset train = mnist.train();
        ImageDataset small = train.subset(100);
        assertEquals(100, small.count());
        assertArrayEquals(Arrays.copyOf(train.labels(), 100), small.labels());
        assertEquals(-1, train.images().asSlice(0, small.images().byteSize()).mismatch(small.images()));
        assertArrayEquals(train.rawImage(99), small.rawImage(99));
        small.close(); // a view owns nothing
        assertEquals(5, train.label(0));
    }

    @Test
    void aWholeEpochThroughTheBatchLoader() {
        ImageDataset train = mnist.train();
        int[] seen = new int[train.count()];
        long start = System.nanoTime();
        int batches = 0;
        try (BatchLoader loader = new BatchLoader(train, train.indices(), 64, 7)) {
            for (BatchLoader.Batch b : loader.epoch(0)) {
                for (int j = 0; j < b.size(); j++) {
                    seen[b.index(j)]++;
                }
                batches++;
            }
        }
        double ms = (System.nanoTime() - start) / 1e6;
        System.out.printf("one epoch of %d MNIST batches of 64 through the loader: %.1f ms%n", batches, ms);
        assertEquals(938, batches);
        assertTrue(Arrays.stream(seen).allMatch(c -> c == 1));
    }
}

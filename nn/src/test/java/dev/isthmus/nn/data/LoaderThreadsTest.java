package dev.isthmus.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader's threads: the batches are the same bits for 1 and 4 threads
 * (MNIST-sized distortions, and image-folder crops decoded on the loader
 * threads); each sample's draws follow its dataset index, not its position;
 * no thread allocates per batch once warm; the per-epoch timing; the image
 * folder's decode-on-demand cache and its limit.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LoaderThreadsTest {

    private static final com.sun.management.ThreadMXBean BEAN =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @TempDir
    Path tmp;

    /** N = 203 glyphs of 32x32 (awkward N, batch 17: a short last batch), a square moving with i. */
    private static ImageDataset glyphs() {
        int n = 203, h = 32, w = 32;
        float[] images = new float[n * h * w];
        int[] labels = new int[n];
        Arrays.fill(images, Mnist.BACKGROUND);
        for (int i = 0; i < n; i++) {
            labels[i] = i % 10;
            int top = 4 + i % 13, left = 3 + i % 17;
            for (int y = top; y < top + 10; y++) {
                for (int x = left; x < left + 8; x++) images[i * h * w + y * w + x] = 1.175f;
            }
        }
        return ImageDataset.copyOf("glyphs", 1, h, w, images, labels);
    }

    /** Every batch of epochs 0..epochs-1: images and labels as one array per batch. */
    private static List<float[]> batches(BatchLoader loader, int epochs) {
        List<float[]> out = new ArrayList<>();
        for (int e = 0; e < epochs; e++) {
            for (BatchLoader.Batch b : loader.epoch(e)) {
                out.add(b.images().toArray(ValueLayout.JAVA_FLOAT));
                float[] labels = new float[b.size()];
                for (int j = 0; j < b.size(); j++) labels[j] = b.label(j);
                out.add(labels);
            }
        }
        return out;
    }

    private static void assertSameBatches(List<float[]> expected, List<float[]> got, String what) {
        assertEquals(expected.size(), got.size(), what + ": batches");
        for (int i = 0; i < expected.size(); i++) {
            int mismatch = Arrays.mismatch(expected.get(i), got.get(i));
            assertEquals(-1, mismatch, what + ": array " + i + " differs first at " + mismatch);
        }
    }

    @Test
    void oneAndFourThreadsGiveBitIdenticalDistortedBatches() {
        try (ImageDataset data = glyphs()) {
            List<float[]> one, four;
            try (var loader = new BatchLoader(data, data.indices(), 17, 5, true, false, Distortions.mnist(), 1)) {
                one = batches(loader, 3);
            }
            try (var loader = new BatchLoader(data, data.indices(), 17, 5, true, false, Distortions.mnist(), 4)) {
                assertEquals(4, loader.threads());
                four = batches(loader, 3);
            }
            assertSameBatches(one, four, "1 vs 4 loader threads");
            assertFalse(Arrays.equals(one.get(0), one.get(2 * 12)), "epochs differ (12 batches of images and labels each)");
        }
    }

    @Test
    void eachImagesDrawsFollowItsIndexNotItsPosition() {
        try (ImageDataset data = glyphs()) {
            float[][] shuffled = augmentedByIndex(data, true), ordered = augmentedByIndex(data, false);
            for (int i = 0; i < data.count(); i++) {
                assertArrayEquals(ordered[i], shuffled[i], "image " + i + " of epoch 2, shuffled or not");
            }
            assertFalse(Arrays.equals(ordered[0], ordered[1]));
        }
    }

    private static float[][] augmentedByIndex(ImageDataset data, boolean shuffle) {
        float[][] out = new float[data.count()][];
        try (var loader = new BatchLoader(data, data.indices(), 10, 9, shuffle, false, Distortions.mnist(), 2)) {
            for (BatchLoader.Batch b : loader.epoch(2)) {
                for (int j = 0; j < b.size(); j++) {
                    out[b.index(j)] = b.images().asSlice(j * 4096L, 4096).toArray(ValueLayout.JAVA_FLOAT);
                }
            }
        }
        return out;
    }

    /** Epochs of 500 batches: neither the caller nor any loader thread allocates per batch once warm. */
    @Test
    void noThreadAllocatesPerBatchInSteadyState() {
        int n = 2000, batch = 4;
        float[] images = new float[n * 1024];
        Arrays.fill(images, Mnist.BACKGROUND);
        try (ImageDataset data = ImageDataset.copyOf("blank", 1, 32, 32, images, new int[n]);
             var loader = new BatchLoader(data, data.indices(), batch, 1, true, true, Distortions.mnist(), 2)) {
            long[] loaderThreads = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith(loader.workerThread().getName()))
                    .mapToLong(Thread::threadId).toArray();
            assertEquals(2, loaderThreads.length, "the worker and one team thread");
            float sink = 0;
            for (int e = 0; e < 30; e++) { // warm: the JIT compiles the loops
                for (BatchLoader.Batch b : loader.epoch(e)) sink += b.images().get(ValueLayout.JAVA_FLOAT, 0);
            }
            long best = Long.MAX_VALUE;
            for (int attempt = 0; attempt < 5 && best > 2048; attempt++) {
                long caller = BEAN.getCurrentThreadAllocatedBytes();
                long others = Arrays.stream(BEAN.getThreadAllocatedBytes(loaderThreads)).sum();
                for (BatchLoader.Batch b : loader.epoch(100 + attempt)) sink += b.images().get(ValueLayout.JAVA_FLOAT, 0);
                long bytes = BEAN.getCurrentThreadAllocatedBytes() - caller
                        + Arrays.stream(BEAN.getThreadAllocatedBytes(loaderThreads)).sum() - others;
                best = Math.min(best, bytes);
            }
            // Per epoch a request, an end, a timing, an iterator: a few hundred bytes. One object per batch would be 8,000.
            assertTrue(best <= 2048, "heap bytes over an epoch of " + n / batch + " batches, all threads: " + best
                    + " (sink " + sink + ")");
        }
    }

    @Test
    void theLoaderTimesTheWaitAndTheFill() {
        try (ImageDataset data = glyphs()) {
            Augmenter slow = (image, c, h, w, random) -> sleep(1);
            try (var loader = new BatchLoader(data, data.indices(), 20, 1, true, true, slow, 1)) {
                assertNull(loader.lastEpoch());
                for (BatchLoader.Batch b : loader.epoch(0)) assertNotNull(b);
                BatchLoader.Timing t = loader.lastEpoch();
                assertEquals(0, t.epoch());
                assertEquals(10, t.batches());
                assertEquals(200, t.images());
                assertEquals(1, t.threads());
                assertTrue(t.fillSeconds() >= 0.2, "200 samples of 1 ms: " + t.fillSeconds() + " s");
                assertTrue(t.waitSeconds() >= 0.15, "the caller did nothing but wait: " + t.waitSeconds() + " s");
                assertTrue(t.imagesPerSecond() <= 1000, t.imagesPerSecond() + " images/s");
                for (BatchLoader.Batch b : loader.epoch(1)) sleep(40); // the step is now slower than the loader
                t = loader.lastEpoch();
                assertTrue(t.waitShare(0.4) < 0.15, "waited " + t.waitSeconds() + " s of about 0.4 s");
            }
        }
    }

    @Test
    void badThreadCounts() {
        try (ImageDataset data = glyphs()) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new BatchLoader(data, data.indices(), 4, 1, true, false, null, 0));
            assertTrue(e.getMessage().contains("threads must be in [1, 64], got 0"), e.getMessage());
            int d = BatchLoader.defaultThreads(Runtime.getRuntime().availableProcessors());
            assertEquals(1, d, "a step on every core leaves one loader thread");
            assertTrue(BatchLoader.defaultThreads(0) >= 1 && BatchLoader.defaultThreads(0) <= 4);
        }
    }

    // ---- image folders decoded on the loader threads

    @Test
    void aFolderDecodedOnTheLoaderThreadsGivesTheBatchesOfOneLoadedUpFront() throws IOException {
        Path root = tmp.resolve("shapes");
        Shapes.write(root, 3, 9, 40, 2);
        var t = ImageFolder.Transform.train(32, new float[] {100, 110, 120}, null, 1 / 60f);
        List<float[]> loaded, one, four;
        try (ImageFolder f = ImageFolder.load(root, 36, 2);
             BatchLoader loader = f.loader(f.indices(), 5, 3, t, true, false, 1)) {
            loaded = batches(loader, 2);
        }
        try (ImageFolder f = ImageFolder.open(root, 36, 2, Long.MAX_VALUE);
             BatchLoader loader = f.loader(f.indices(), 5, 3, t, true, false, 1)) {
            assertEquals(0, f.cachedBytes(), "open decodes nothing");
            one = batches(loader, 2);
            assertEquals(27, f.decodes(), "each image decoded once, in the first epoch");
        }
        try (ImageFolder f = ImageFolder.open(root, 36, 2, Long.MAX_VALUE);
             BatchLoader loader = f.loader(f.indices(), 5, 3, t, true, false, 4)) {
            four = batches(loader, 2);
            assertEquals(27, f.decodes());
        }
        assertSameBatches(loaded, one, "decoded at load vs on one loader thread");
        assertSameBatches(one, four, "1 vs 4 loader threads decoding");
    }

    @Test
    void theCacheKeepsWhatFitsAndDecodesTheRestEachTime() throws IOException {
        Path root = tmp.resolve("shapes");
        Shapes.write(root, 2, 10, 40, 4);
        long perImage = 40 * 40 * 3;
        try (ImageFolder f = ImageFolder.open(root, 40, 2, 8 * perImage)) {
            for (int pass = 0; pass < 3; pass++) {
                for (int i = 0; i < f.count(); i++) f.pixels(i);
            }
            assertEquals(8 * perImage, f.cachedBytes(), "the first 8 images fill the cache");
            assertEquals(8 + 3 * 12, f.decodes(), "the other 12 are decoded on every pass");
            try (ImageFolder all = ImageFolder.load(root, 40, 2)) {
                for (int i = 0; i < f.count(); i++) {
                    assertEquals(-1, all.pixels(i).mismatch(f.pixels(i)), "image " + i);
                }
                assertEquals(0, all.decodes());
            }
        }
        try (ImageFolder none = ImageFolder.open(root, 40, 2, 0)) {
            none.pixels(3);
            none.pixels(3);
            assertEquals(2, none.decodes());
            assertEquals(0, none.cachedBytes());
        }
        assertThrows(IllegalArgumentException.class, () -> ImageFolder.open(root, 40, 2, -1));
    }

    @Test
    void openSkipsFilesThatAreNotImagesAndCountsOnesThatFailToDecodeLater() throws IOException {
        Path root = tmp.resolve("shapes");
        Shapes.write(root, 2, 6, 40, 5);
        Files.writeString(root.resolve("circle/notes.txt"), "not an image");
        byte[] png = Files.readAllBytes(root.resolve("square/0000.png"));
        Files.write(root.resolve("square/broken.png"), Arrays.copyOf(png, 40)); // the header, no pixel data
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try (ImageFolder f = ImageFolder.open(root, 40, 2, Long.MAX_VALUE)) {
            assertEquals(1, f.skipped(), "notes.txt");
            assertEquals(13, f.count(), "12 images and the broken one, whose header reads");
            for (int i = 0; i < f.count(); i++) f.pixels(i);
            assertEquals(1, f.failedDecodes());
            int broken = -1;
            for (int i = 0; i < f.count(); i++) if (f.file(i).endsWith("broken.png")) broken = i;
            MemorySegment black = f.pixels(broken);
            for (long k = 0; k < black.byteSize(); k++) assertEquals(0, black.get(ValueLayout.JAVA_BYTE, k));
        } finally {
            System.setErr(old);
        }
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("skipped 1 of 14"), text);
        assertTrue(text.contains("broken.png did not decode"), text);
    }

    @Test
    void shapesWritesAJpegFolderOfTheSamePictures() throws IOException {
        Path jpeg = tmp.resolve("jpeg"), png = tmp.resolve("png");
        Shapes.write(jpeg, 2, 4, 48, 6, Shapes.Difficulty.EASY, Shapes.Format.JPEG);
        Shapes.write(png, 2, 4, 48, 6, Shapes.Difficulty.EASY, Shapes.Format.PNG);
        try (var files = Files.walk(jpeg)) {
            assertEquals(8, files.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".jpg")).count());
        }
        try (ImageFolder j = ImageFolder.open(jpeg, 48, 2, Long.MAX_VALUE); ImageFolder p = ImageFolder.load(png, 48, 2)) {
            assertEquals(8, j.count());
            for (int i = 0; i < 8; i++) {
                MemorySegment a = j.pixels(i), b = p.pixels(i);
                double diff = 0;
                for (long k = 0; k < a.byteSize(); k++) {
                    diff += Math.abs((a.get(ValueLayout.JAVA_BYTE, k) & 0xff) - (b.get(ValueLayout.JAVA_BYTE, k) & 0xff));
                }
                assertTrue(diff / a.byteSize() < 8, "image " + i + ": JPEG and PNG differ by " + diff / a.byteSize() + " on average");
            }
            assertEquals(0, j.failedDecodes());
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

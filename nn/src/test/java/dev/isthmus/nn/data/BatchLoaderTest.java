package dev.isthmus.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The batch loader on a generated dataset of awkward sizes: N = 203 images
 * of (1, 5, 7), where image i holds i*100 + k at position k, and label i % 10.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BatchLoaderTest {

    private static final int N = 203;
    private static final int C = 1, H = 5, W = 7, CHW = C * H * W;

    private ImageDataset data;

    @BeforeEach
    void create() {
        float[] images = new float[N * CHW];
        int[] labels = new int[N];
        for (int i = 0; i < N; i++) {
            labels[i] = i % 10;
            for (int k = 0; k < CHW; k++) {
                images[i * CHW + k] = i * 100 + k;
            }
        }
        data = ImageDataset.copyOf("toy", C, H, W, images, labels);
    }

    @AfterEach
    void close() {
        data.close();
    }

    /** Every batch of an epoch: the dataset index of each sample, in order, checking images and labels on the way. */
    private List<int[]> epoch(BatchLoader loader, int e) {
        List<int[]> batches = new ArrayList<>();
        for (BatchLoader.Batch b : loader.epoch(e)) {
            assertEquals(e, b.epoch());
            assertEquals(batches.size(), b.number());
            assertEquals((long) b.size() * CHW * Float.BYTES, b.images().byteSize());
            assertEquals((long) b.size() * Integer.BYTES, b.labels().byteSize());
            int[] indices = new int[b.size()];
            for (int j = 0; j < b.size(); j++) {
                int index = b.index(j);
                indices[j] = index;
                MemorySegment expected = data.image(index);
                MemorySegment got = b.images().asSlice((long) j * CHW * Float.BYTES, CHW * Float.BYTES);
                assertEquals(-1, expected.mismatch(got), "batch " + b.number() + " sample " + j + " (index " + index + ")");
                assertEquals(data.label(index), b.labels().getAtIndex(ValueLayout.JAVA_INT, j));
                assertEquals(data.label(index), b.label(j));
            }
            batches.add(indices);
        }
        return batches;
    }

    private static int[] flat(List<int[]> batches) {
        return batches.stream().flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void everyIndexOnceAndTheImagesAreTheDatasets() {
        try (BatchLoader loader = new BatchLoader(data, data.indices(), 17, 5)) {
            assertEquals(12, loader.batchesPerEpoch());
            List<int[]> batches = epoch(loader, 0);
            assertEquals(12, batches.size());
            assertEquals(203 - 11 * 17, batches.getLast().length, "the last batch is short");
            int[] all = flat(batches);
            assertArrayEquals(loader.order(0), all);
            assertArrayEquals(data.indices(), Arrays.stream(all).sorted().toArray());
            assertFalse(Arrays.equals(data.indices(), all), "shuffled");
        }
    }

    @Test
    void sameSeedSameOrderDifferentEpochsDifferentOrders() {
        int[] train = data.split(50, 3).train();
        try (BatchLoader a = new BatchLoader(data, train, 16, 99);
                BatchLoader b = new BatchLoader(data, train, 16, 99);
                BatchLoader c = new BatchLoader(data, train, 16, 100)) {
            int[] a0 = flat(epoch(a, 0));
            int[] a1 = flat(epoch(a, 1));
            int[] a2 = flat(epoch(a, 2));
            assertArrayEquals(train, Arrays.stream(a1).sorted().toArray());
            assertNotEquals(Arrays.toString(a0), Arrays.toString(a1));
            assertNotEquals(Arrays.toString(a1), Arrays.toString(a2));
            // A resumed run reproduces epoch 2 without epochs 0 and 1, and epoch 1 again after epoch 2.
            assertArrayEquals(a2, flat(epoch(b, 2)));
            assertArrayEquals(a1, flat(epoch(a, 1)));
            assertNotEquals(Arrays.toString(a0), Arrays.toString(flat(epoch(c, 0))));
        }
    }

    @Test
    void withoutShuffleTheGivenOrderAndDropLast() {
        int[] indices = {202, 0, 1, 2, 3, 7, 100, 101, 5, 5};
        try (BatchLoader loader = new BatchLoader(data, indices, 3, 1, false, true, null)) {
            assertEquals(3, loader.batchesPerEpoch());
            List<int[]> batches = epoch(loader, 4);
            assertEquals(3, batches.size());
            assertArrayEquals(Arrays.copyOf(indices, 9), flat(batches));
        }
        try (BatchLoader loader = new BatchLoader(data, indices, 3, 1, false, false, null)) {
            assertArrayEquals(indices, flat(epoch(loader, 0)));
        }
        try (BatchLoader loader = new BatchLoader(data, new int[0], 3, 1)) {
            assertEquals(0, epoch(loader, 0).size());
        }
    }

    @Test
    void anAbandonedEpochDoesNotDisturbTheNext() {
        try (BatchLoader loader = new BatchLoader(data, data.indices(), 8, 2)) {
            Iterator<BatchLoader.Batch> it = loader.epoch(0).iterator();
            it.next();
            it.next();
            int[] e1 = flat(epoch(loader, 1)); // abandons epoch 0
            assertArrayEquals(loader.order(1), e1);
            assertThrows(IllegalStateException.class, it::hasNext);
            for (int e = 2; e < 6; e++) {
                assertEquals(N, flat(epoch(loader, e)).length);
            }
        }
    }

    @Test
    void theAugmenterRunsOnTheBackgroundThreadOnACopyReproducibly() {
        Thread caller = Thread.currentThread();
        Augmenter shift = (image, c, h, w, random) -> {
            assertNotEquals(caller, Thread.currentThread());
            assertEquals(CHW * Float.BYTES, image.byteSize());
            float add = random.nextInt(1000) * 1e-3f;
            for (int k = 0; k < c * h * w; k++) {
                image.setAtIndex(ValueLayout.JAVA_FLOAT, k, image.getAtIndex(ValueLayout.JAVA_FLOAT, k) + add);
            }
        };
        float[][] firstImages = new float[2][];
        for (int run = 0; run < 2; run++) {
            try (BatchLoader loader = new BatchLoader(data, data.indices(), 32, 11, true, false, shift)) {
                BatchLoader.Batch b = loader.epoch(3).iterator().next();
                firstImages[run] = b.images().toArray(ValueLayout.JAVA_FLOAT);
                float delta = firstImages[run][0] - data.image(b.index(0)).getAtIndex(ValueLayout.JAVA_FLOAT, 0);
                assertTrue(delta >= 0 && delta < 1, "augmented by " + delta);
            }
        }
        assertArrayEquals(firstImages[0], firstImages[1], "same seed, same augmentation");
        for (int i = 0; i < N; i++) {
            assertEquals(i * 100f, data.image(i).getAtIndex(ValueLayout.JAVA_FLOAT, 0), "the dataset is untouched");
        }
    }

    @Test
    void aBackgroundExceptionSurfacesOnTheCallerAndTheLoaderRecovers() {
        RuntimeException boom = new ArithmeticException("boom");
        boolean[] fail = {true};
        Augmenter failing = (image, c, h, w, random) -> {
            if (fail[0] && image.getAtIndex(ValueLayout.JAVA_FLOAT, 0) == 4200f) {
                throw boom;
            }
        };
        try (BatchLoader loader = new BatchLoader(data, data.indices(), 10, 1, false, false, failing)) {
            for (int attempt = 0; attempt < 4; attempt++) { // more failures than buffers: none leaks
                Iterator<BatchLoader.Batch> it = loader.epoch(attempt).iterator();
                int[] delivered = {0};
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
                    while (it.hasNext()) {
                        it.next();
                        delivered[0]++;
                    }
                });
                assertEquals(4, delivered[0], "batches 0..3 come before the failing batch 4 (images 40..49)");
                assertSame(boom, e.getCause());
                assertTrue(e.getMessage().contains("the background thread failed on batch 4"), e.getMessage());
                assertFalse(it.hasNext());
            }
            fail[0] = false;
            assertEquals(N, flat(epoch(loader, 9)).length);
        }
    }

    @Test
    void closeJoinsTheThreadAndFreesTheBuffers() {
        BatchLoader loader = new BatchLoader(data, data.indices(), 4, 1);
        Thread worker = loader.workerThread();
        assertTrue(worker.isAlive());
        Iterator<BatchLoader.Batch> it = loader.epoch(0).iterator();
        BatchLoader.Batch b = it.next(); // the worker is now blocked, all buffers full
        loader.close();
        assertFalse(worker.isAlive(), "close() joins the thread");
        assertThrows(IllegalStateException.class, () -> b.images().getAtIndex(ValueLayout.JAVA_FLOAT, 0));
        assertThrows(IllegalStateException.class, it::hasNext);
        assertThrows(IllegalStateException.class, () -> loader.epoch(1).iterator());
        loader.close(); // twice is fine
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(data, data.indices(), 0, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BatchLoader(data, new int[] {0, 203}, 4, 1));
        assertTrue(e.getMessage().contains("indices[1] = 203 is outside [0, 203)"), e.getMessage());
        try (BatchLoader loader = new BatchLoader(data, data.indices(), 4, 1)) {
            assertThrows(IllegalArgumentException.class, () -> loader.epoch(-1));
        }
    }
}

package dev.isthmus.nn.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batches of a dataset, assembled off-heap on one background thread while the
 * caller consumes the previous batch. The same loader batches the crops of an
 * {@link ImageFolder}, rendered on that thread (see {@link ImageFolder#loader}).
 *
 * <pre>{@code
 * try (var loader = new BatchLoader(mnist.train(), split.train(), 64, seed)) {
 *     for (int e = 0; e < epochs; e++) {
 *         for (BatchLoader.Batch b : loader.epoch(e)) {
 *             b.images(); // (B, C, H, W) f32
 *             b.labels(); // (B) i32
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>Epoch e visits every given index once, in the order {@link #order(int)}:
 * a permutation drawn from (seed, e) alone when shuffling, so a resumed run
 * reproduces epoch e exactly; the given order otherwise. The last batch is
 * short unless {@code dropLast}, which drops it.
 *
 * <p>Three buffers rotate between the two threads through blocking queues:
 * one held by the caller, one being filled, one ready. <b>A {@link Batch} is
 * valid until the next {@code hasNext()} or {@code next()} on the iterator
 * that returned it</b>; its buffers then go back to the loader to be refilled,
 * so copy out what must outlive it. No memory is allocated per batch.
 *
 * <p>The thread is started once, by the constructor, and stopped and joined by
 * {@link #close()}, which also frees the buffers. An exception on the
 * background thread (a closed dataset, a failing {@link Augmenter}) surfaces
 * on the caller's thread, as the cause of an {@link IllegalStateException}
 * from {@code hasNext()}. Starting a new epoch abandons the one in progress.
 * A loader is used from one thread at a time.
 */
public final class BatchLoader implements AutoCloseable {

    private static final int BUFFERS = 3;
    private static final long AUGMENT_SALT = 0xA06E_47E5L;
    private static final AtomicInteger THREADS = new AtomicInteger();

    /**
     * One batch in a buffer owned by the loader: images (B, C, H, W) float32
     * and labels (B) int32, B = {@link #size()}. Valid until the next
     * {@code hasNext()} or {@code next()} on its iterator.
     */
    public static final class Batch {
        private final MemorySegment images;     // (batchSize, C, H, W) f32
        private final MemorySegment labels;     // (batchSize) i32
        private final MemorySegment lastImages; // (lastSize, C, H, W) f32, a view of images
        private final MemorySegment lastLabels; // (lastSize) i32, a view of labels
        private final int[] indices;            // (batchSize) dataset index of each sample
        private final int views;                // V images per sample
        private int size;
        private int number;
        private int epoch;
        private int generation;

        private Batch(Arena arena, int batchSize, int lastSize, long imageBytes, int views) {
            this.views = views;
            images = arena.allocate(batchSize * imageBytes, 64);
            labels = arena.allocate((long) batchSize * Integer.BYTES, 64);
            lastImages = images.asSlice(0, lastSize * imageBytes);
            lastLabels = labels.asSlice(0, (long) lastSize * Integer.BYTES);
            indices = new int[batchSize];
        }

        /**
         * The images, (B, C, H, W) float32 row-major; (B*V, C, H, W) when each
         * sample has V > 1 views (ten-crop evaluation), sample j's views being
         * rows j*V .. j*V+V-1.
         */
        public MemorySegment images() {
            return size == indices.length ? images : lastImages;
        }

        /** The labels, (B) int32. */
        public MemorySegment labels() {
            return size == indices.length ? labels : lastLabels;
        }

        /** B, the number of samples; the last batch of an epoch may be short. */
        public int size() {
            return size;
        }

        /** V, the images per sample: 1, or more for multi-view evaluation (10 for ten crops). */
        public int views() {
            return views;
        }

        /** The position of this batch in its epoch, from 0. */
        public int number() {
            return number;
        }

        /** The epoch this batch belongs to. */
        public int epoch() {
            return epoch;
        }

        /** The dataset index of sample j of this batch. */
        public int index(int j) {
            return indices[Objects.checkIndex(j, size)];
        }

        /** The label of sample j of this batch. */
        public int label(int j) {
            return labels.getAtIndex(ValueLayout.JAVA_INT, Objects.checkIndex(j, size));
        }
    }

    private record Request(int generation, int epoch) {}

    private record End(int generation, Throwable error, int batch) {}

    /**
     * What a loader batches when it is not an {@link ImageDataset}: samples
     * rendered one at a time on the background thread ({@link ImageFolder}'s
     * crops).
     */
    interface Source {
        String name();

        /** N, the samples the indices may name. */
        int count();

        /** Bytes of one sample's images, all its views: V*C*H*W*4. */
        long sampleBytes();

        /** V, the images per sample. */
        int views();

        int label(int index);

        /** Writes sample {@code index} into {@code dst}, (V, C, H, W) f32; random is seeded for this sample of this epoch. */
        void render(int index, MemorySegment dst, Random random);
    }

    private final String name;
    private final ImageDataset data;  // null when batching a source
    private final Source source;      // null when batching a dataset
    private final long sampleBytes;
    private final int[] indices;      // (M) the dataset indices an epoch visits
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final boolean dropLast;
    private final Augmenter augmenter; // null: none
    private final int batches;

    // Shared: the worker writes the buffers, the caller reads them.
    private final Arena arena = Arena.ofShared();
    private final ArrayBlockingQueue<Batch> free = new ArrayBlockingQueue<>(BUFFERS);
    private final ArrayBlockingQueue<Object> ready = new ArrayBlockingQueue<>(BUFFERS + 1); // Batch or End
    private final ArrayBlockingQueue<Request> requests = new ArrayBlockingQueue<>(1);
    private final Thread worker;
    private final int[] workerOrder;  // (S) the worker's permutation buffer: this rank's shard of the epoch
    private final int[] fullOrder;    // (M) the whole epoch's permutation, of which workerOrder is a shard
    private final int rank, ranks;    // this loader's shard: positions rank, rank + ranks, ... of each epoch

    /** The generation of the epoch run the caller waits for; the worker abandons older ones. */
    private volatile int generation;
    private EpochIterator active;
    private boolean closed;

    /** A shuffling loader keeping the short last batch, without augmentation. */
    public BatchLoader(ImageDataset data, int[] indices, int batchSize, long seed) {
        this(data, indices, batchSize, seed, true, false, null);
    }

    /**
     * @param data      the dataset; it must stay open while the loader runs
     * @param indices   the dataset indices one epoch visits (copied), for example {@link ImageDataset.Split#train()}
     * @param batchSize B, at least 1
     * @param seed      seeds the per-epoch permutations and the augmentation
     * @param shuffle   whether epoch e visits the indices in a permutation drawn from (seed, e)
     * @param dropLast  whether a short last batch is dropped
     * @param augmenter applied to each image of each batch on the background thread, or null
     */
    public BatchLoader(ImageDataset data, int[] indices, int batchSize, long seed, boolean shuffle, boolean dropLast,
            Augmenter augmenter) {
        this(data, indices, batchSize, seed, shuffle, dropLast, augmenter, 0, 1);
    }

    /**
     * A loader of rank {@code rank}'s shard of every epoch when {@code ranks} processes train
     * together (PyTorch's DistributedSampler): every rank draws the same permutation of all the
     * indices from (seed, e) and takes positions rank, rank + ranks, rank + 2 ranks, ...; where
     * the count M is not a multiple of ranks the permutation is padded by wrapping around to its
     * start, so every rank has ceil(M / ranks) samples and an epoch covers every index, the first
     * (ranks - M mod ranks) of the permutation twice. With one rank this is the loader above.
     * Batch j of every rank together are positions [j B ranks, (j + 1) B ranks) of the epoch, so
     * {@code ranks} loaders of batch B see what one loader of batch B ranks sees. Augmentation is
     * seeded by the position in the whole epoch, so it too does not depend on the rank count.
     */
    public BatchLoader(ImageDataset data, int[] indices, int batchSize, long seed, boolean shuffle, boolean dropLast,
            Augmenter augmenter, int rank, int ranks) {
        this(Objects.requireNonNull(data, "data").name(), data, null, data.count(), data.imageBytes(), 1, indices,
                batchSize, seed, shuffle, dropLast, augmenter, rank, ranks);
    }

    /** A loader of samples rendered by {@code source} (which must stay usable while the loader runs). */
    BatchLoader(Source source, int[] indices, int batchSize, long seed, boolean shuffle, boolean dropLast) {
        this(source, indices, batchSize, seed, shuffle, dropLast, 0, 1);
    }

    /** A loader of rank {@code rank}'s shard of the samples rendered by {@code source}. */
    BatchLoader(Source source, int[] indices, int batchSize, long seed, boolean shuffle, boolean dropLast, int rank, int ranks) {
        this(source.name(), null, source, source.count(), source.sampleBytes(), source.views(), indices, batchSize,
                seed, shuffle, dropLast, null, rank, ranks);
    }

    private BatchLoader(String name, ImageDataset data, Source source, int count, long sampleBytes, int views,
            int[] indices, int batchSize, long seed, boolean shuffle, boolean dropLast, Augmenter augmenter,
            int rank, int ranks) {
        if (ranks < 1 || rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("BatchLoader(" + name + "): rank " + rank + " of " + ranks
                    + " is not in [0, ranks) with ranks >= 1");
        }
        this.rank = rank;
        this.ranks = ranks;
        this.name = name;
        this.data = data;
        this.source = source;
        this.sampleBytes = sampleBytes;
        if (batchSize < 1) {
            throw new IllegalArgumentException("BatchLoader(" + name + "): batch size must be at least 1, got "
                    + batchSize);
        }
        this.indices = indices.clone();
        for (int i = 0; i < this.indices.length; i++) {
            if (this.indices[i] < 0 || this.indices[i] >= count) {
                throw new IllegalArgumentException("BatchLoader(" + name + "): indices[" + i + "] = "
                        + this.indices[i] + " is outside [0, " + count + ")");
            }
        }
        this.batchSize = batchSize;
        this.seed = seed;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.augmenter = augmenter;
        int m = (this.indices.length + ranks - 1) / ranks;   // this rank's shard
        this.batches = dropLast ? m / batchSize : (m + batchSize - 1) / batchSize;
        int lastSize = m % batchSize == 0 || dropLast ? batchSize : m % batchSize;
        try {
            for (int i = 0; i < BUFFERS; i++) {
                free.add(new Batch(arena, batchSize, lastSize, sampleBytes, views));
            }
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        this.workerOrder = new int[m];
        this.fullOrder = ranks == 1 ? workerOrder : new int[this.indices.length];
        this.worker = Thread.ofPlatform()
                .name("isthmus-batches-" + THREADS.incrementAndGet())
                .daemon(true)
                .unstarted(this::work);
        this.worker.start();
    }

    /** Batches per epoch. */
    public int batchesPerEpoch() {
        return batches;
    }

    /** B, the size of every batch but possibly the last. */
    public int batchSize() {
        return batchSize;
    }

    /**
     * The batches of epoch e (e >= 0). Each call of {@code iterator()} on the
     * result starts the epoch on the background thread (and abandons an epoch
     * in progress).
     */
    public Iterable<Batch> epoch(int e) {
        if (e < 0) {
            throw new IllegalArgumentException("BatchLoader(" + name + "): epoch must be >= 0, got " + e);
        }
        return () -> start(e);
    }

    /** The dataset indices in the order epoch e visits them on this rank (a new array). */
    public int[] order(int epoch) {
        int[] out = new int[workerOrder.length];
        int[] full = ranks == 1 ? out : new int[indices.length];
        fillOrder(epoch, full, out);
        return out;
    }

    /** The whole epoch's permutation into {@code full}, then this rank's shard of it into {@code shard}. */
    private void fillOrder(int epoch, int[] full, int[] shard) {
        permutation(epoch, full);
        if (ranks == 1) {
            return;
        }
        for (int k = 0; k < shard.length; k++) {
            shard[k] = full[(rank + k * ranks) % full.length];
        }
    }

    private void permutation(int epoch, int[] out) {
        System.arraycopy(indices, 0, out, 0, indices.length);
        if (!shuffle) {
            return;
        }
        SplittableRandom random = new SplittableRandom(Seeds.mix(seed, epoch));
        for (int i = out.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = out[i];
            out[i] = out[j];
            out[j] = t;
        }
    }

    /** The background thread, for tests. */
    Thread workerThread() {
        return worker;
    }

    /** Stops the background thread, waits for it, and frees the buffers; a no-op when already closed. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        generation++;
        worker.interrupt();
        boolean interrupted = false;
        while (true) {
            try {
                worker.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        arena.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- the caller's side

    private EpochIterator start(int epoch) {
        checkOpen();
        if (active != null) {
            active.abandon();
        }
        int gen = generation + 1;
        generation = gen;
        active = new EpochIterator(gen);
        try {
            requests.put(new Request(gen, epoch));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("BatchLoader(" + name + "): interrupted", e);
        }
        return active;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("BatchLoader(" + name + ") is closed");
        }
    }

    /** The next message from the worker; notices a worker that died without a word. */
    private Object take() {
        try {
            while (true) {
                Object m = ready.poll(1, TimeUnit.SECONDS);
                if (m != null) {
                    return m;
                }
                if (!worker.isAlive()) {
                    throw new IllegalStateException("BatchLoader(" + name + "): the background thread is gone");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("BatchLoader(" + name + "): interrupted", e);
        }
    }

    private final class EpochIterator implements Iterator<Batch> {
        private final int gen;
        private Batch current; // handed to the caller
        private Batch next;    // taken from the queue, not yet handed out
        private boolean done;
        private boolean abandoned;

        EpochIterator(int gen) {
            this.gen = gen;
        }

        @Override
        public boolean hasNext() {
            checkOpen();
            if (abandoned) {
                throw new IllegalStateException("BatchLoader(" + name
                        + "): this epoch was abandoned when another one started");
            }
            if (next != null) {
                return true;
            }
            if (done) {
                return false;
            }
            release();
            Object m = take();
            if (m instanceof End end) {
                assert end.generation() == gen;
                done = true;
                if (end.error() != null) {
                    throw new IllegalStateException("BatchLoader(" + name + "): the background thread failed"
                            + " on batch " + end.batch() + ": " + end.error(), end.error());
                }
                return false;
            }
            next = (Batch) m;
            assert next.generation == gen;
            return true;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("BatchLoader(" + name + "): no more batches in this epoch");
            }
            current = next;
            next = null;
            return current;
        }

        private void release() {
            if (current != null) {
                free.add(current);
                current = null;
            }
        }

        /** Gives back the buffers and drains what the worker made for this run until its end. */
        void abandon() {
            release();
            if (next != null) {
                free.add(next);
                next = null;
            }
            if (!done) {
                done = true;
                abandoned = true;
                while (true) {
                    Object m = take();
                    if (m instanceof Batch b) {
                        free.add(b);
                    } else if (((End) m).generation() == gen) {
                        break;
                    }
                }
            }
        }
    }

    // ---- the background thread

    private void work() {
        try {
            while (true) {
                Request r = requests.take();
                int batch = 0;
                Batch b = null; // a buffer this thread holds; given back if filling it fails
                try {
                    fillOrder(r.epoch(), fullOrder, workerOrder);
                    for (; batch < batches && generation == r.generation(); batch++) {
                        b = free.take();
                        if (generation != r.generation()) {
                            break;
                        }
                        fill(b, r, batch);
                        ready.put(b);
                        b = null;
                    }
                    if (b != null) {
                        free.add(b);
                    }
                    ready.put(new End(r.generation(), null, batch));
                } catch (InterruptedException e) {
                    throw e;
                } catch (Throwable t) {
                    if (b != null) {
                        free.add(b);
                    }
                    ready.put(new End(r.generation(), t, batch));
                }
            }
        } catch (InterruptedException e) {
            // close(): stop
        }
    }

    private void fill(Batch b, Request r, int number) {
        int start = number * batchSize;
        int size = Math.min(batchSize, workerOrder.length - start);
        b.size = size;
        b.number = number;
        b.epoch = r.epoch();
        b.generation = r.generation();
        if (source != null) {
            long epochSeed = Seeds.mix(seed ^ AUGMENT_SALT, r.epoch());
            for (int j = 0; j < size; j++) {
                int index = workerOrder[start + j];
                b.indices[j] = index;
                b.labels.setAtIndex(ValueLayout.JAVA_INT, j, source.label(index));
                Random random = new Random(Seeds.mix(epochSeed, (long) (start + j) * ranks + rank));
                source.render(index, b.images.asSlice(j * sampleBytes, sampleBytes), random);
            }
            return;
        }
        long imageBytes = sampleBytes;
        MemorySegment src = data.images(); // (N, C, H, W) f32
        int[] labels = data.labelArray();
        for (int j = 0; j < size; ) {
            int first = workerOrder[start + j];
            int run = 1; // consecutive dataset indices are copied as one block
            while (j + run < size && workerOrder[start + j + run] == first + run) {
                run++;
            }
            MemorySegment.copy(src, first * imageBytes, b.images, j * imageBytes, run * imageBytes);
            j += run;
        }
        for (int j = 0; j < size; j++) {
            int index = workerOrder[start + j];
            b.indices[j] = index;
            b.labels.setAtIndex(ValueLayout.JAVA_INT, j, labels[index]);
        }
        if (augmenter != null) {
            long epochSeed = Seeds.mix(seed ^ AUGMENT_SALT, r.epoch());
            for (int j = 0; j < size; j++) {
                Random random = new Random(Seeds.mix(epochSeed, (long) (start + j) * ranks + rank));
                augmenter.augment(b.images.asSlice(j * imageBytes, imageBytes), data.channels(), data.height(),
                        data.width(), random);
            }
        }
    }
}

package dev.isthmus.nn.data;

import dev.isthmus.engine.cpu.ThreadTeam;

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
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Batches of a dataset, assembled off-heap on a fixed set of loader threads
 * while the caller consumes the previous batch. The same loader batches the
 * crops of an {@link ImageFolder}, decoded and rendered on those threads (see
 * {@link ImageFolder#loader}).
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
 * <p>One background thread runs each epoch; with {@code threads > 1} it fills
 * each batch together with {@code threads - 1} more threads (an
 * {@link ThreadTeam}: the samples of a batch are shared among them). Each
 * sample's random draws come from (seed, epoch, dataset index) alone, through
 * a {@link Random} reseeded per sample, so the thread count changes nothing in
 * the batches. {@link #defaultThreads(int)} picks the count from the cores and
 * the training step's own threads.
 *
 * <p>The loader measures itself: per epoch run, the time the caller waited
 * for a batch and the time the threads took to fill the batches
 * ({@link #lastEpoch()}, a {@link Timing}).
 *
 * <p>Three buffers rotate between the two sides through queues: one held by
 * the caller, one being filled, one ready; a side with nothing to take parks
 * until the other hands something over. <b>A {@link Batch} is
 * valid until the next {@code hasNext()} or {@code next()} on the iterator
 * that returned it</b>; its buffers then go back to the loader to be refilled,
 * so copy out what must outlive it. No memory is allocated per batch, on any
 * thread, once the first epoch has run (an {@link Augmenter} or source that
 * allocates aside).
 *
 * <p>The threads are started once, by the constructor, and stopped and joined
 * by {@link #close()}, which also frees the buffers. An exception on the
 * background thread (a closed dataset, a failing {@link Augmenter}) surfaces
 * on the caller's thread, as the cause of an {@link IllegalStateException}
 * from {@code hasNext()}. Starting a new epoch abandons the one in progress.
 * A loader is used from one thread at a time.
 */
public final class BatchLoader implements AutoCloseable {

    private static final int BUFFERS = 3;
    /** The most loader threads a loader accepts. */
    public static final int MAX_THREADS = 64;
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
        private final MemorySegment[] samples;  // (batchSize) views of images, one per sample: none made per batch
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
            samples = new MemorySegment[batchSize];
            for (int j = 0; j < batchSize; j++) { // imageBytes: one sample, all its V views
                samples[j] = images.asSlice(j * imageBytes, imageBytes);
            }
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

    /**
     * What the loader measured over one epoch run.
     *
     * @param epoch       the epoch
     * @param batches     batches delivered
     * @param images      samples delivered (all views of a sample count once)
     * @param waitSeconds time the caller spent waiting for a batch in {@code hasNext()}/{@code next()}
     * @param fillSeconds time the loader threads spent filling batches (wall time of the fills, all threads
     *                    together)
     * @param threads     the loader threads
     */
    public record Timing(int epoch, int batches, long images, double waitSeconds, double fillSeconds, int threads) {

        /** Samples per second the loader threads produce, batches filled back to back: images / fillSeconds. */
        public double imagesPerSecond() {
            return fillSeconds > 0 ? images / fillSeconds : Double.POSITIVE_INFINITY;
        }

        /** The fraction of an epoch of {@code epochSeconds} that the caller spent waiting for data. */
        public double waitShare(double epochSeconds) {
            return epochSeconds > 0 ? waitSeconds / epochSeconds : 0;
        }
    }

    private record Request(int generation, int epoch) {}

    private record End(int generation, Throwable error, int batch, long images, long fillNanos) {}

    /**
     * What a loader batches when it is not an {@link ImageDataset}: samples
     * rendered one at a time on the loader threads, several at once
     * ({@link ImageFolder}'s crops).
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
    private final int threads;
    private final ThreadTeam team;    // the worker plus threads - 1 helpers; fills the samples of one batch
    private final ThreadLocal<Random> randoms = ThreadLocal.withInitial(Random::new); // reseeded per sample
    private final IntConsumer fillSample = this::fillSample; // made once: no lambda per batch

    // Shared: the worker writes the buffers, the caller reads them.
    private final Arena arena = Arena.ofShared();
    private final ArrayBlockingQueue<Batch> free = new ArrayBlockingQueue<>(BUFFERS);
    private final ArrayBlockingQueue<Object> ready = new ArrayBlockingQueue<>(BUFFERS + 1); // Batch or End
    private final ArrayBlockingQueue<Request> requests = new ArrayBlockingQueue<>(1);
    private final Thread worker;
    private final int[] workerOrder;  // (M) the worker's permutation buffer

    /** The generation of the epoch run the caller waits for; the worker abandons older ones. */
    private volatile int generation;
    private volatile Thread consumer; // the caller while it waits for a batch, unparked by the worker
    private EpochIterator active;
    private boolean closed;
    private Timing last;              // the last epoch run that ended

    // The batch the team fills, set by the worker before each team call (published by the call).
    private Batch filling;
    private long fillingSeed;

    /** A shuffling loader keeping the short last batch, without augmentation, on one thread. */
    public BatchLoader(ImageDataset data, int[] indices, int batchSize, long seed) {
        this(data, indices, batchSize, seed, true, false, null, 1);
    }

    /** {@link #BatchLoader(ImageDataset, int[], int, long, boolean, boolean, Augmenter, int)} on one thread. */
    public BatchLoader(ImageDataset data, int[] indices, int batchSize, long seed, boolean shuffle, boolean dropLast,
            Augmenter augmenter) {
        this(data, indices, batchSize, seed, shuffle, dropLast, augmenter, 1);
    }

    /**
     * @param data      the dataset; it must stay open while the loader runs
     * @param indices   the dataset indices one epoch visits (copied), for example {@link ImageDataset.Split#train()}
     * @param batchSize B, at least 1
     * @param seed      seeds the per-epoch permutations and the augmentation
     * @param shuffle   whether epoch e visits the indices in a permutation drawn from (seed, e)
     * @param dropLast  whether a short last batch is dropped
     * @param augmenter applied to each image of each batch on the loader threads, or null; with more than one
     *                  thread it is called from several threads at once
     * @param threads   the loader threads, at least 1 (see {@link #defaultThreads(int)})
     */
    public BatchLoader(ImageDataset data, int[] indices, int batchSize, long seed, boolean shuffle, boolean dropLast,
            Augmenter augmenter, int threads) {
        this(Objects.requireNonNull(data, "data").name(), data, null, data.count(), data.imageBytes(), 1, indices,
                batchSize, seed, shuffle, dropLast, augmenter, threads);
    }

    /** A loader of samples rendered by {@code source} (which must stay usable while the loader runs). */
    BatchLoader(Source source, int[] indices, int batchSize, long seed, boolean shuffle, boolean dropLast,
            int threads) {
        this(source.name(), null, source, source.count(), source.sampleBytes(), source.views(), indices, batchSize,
                seed, shuffle, dropLast, null, threads);
    }

    private BatchLoader(String name, ImageDataset data, Source source, int count, long sampleBytes, int views,
            int[] indices, int batchSize, long seed, boolean shuffle, boolean dropLast, Augmenter augmenter,
            int threads) {
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
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("BatchLoader(" + name + "): threads must be in [1, " + MAX_THREADS
                    + "], got " + threads);
        }
        this.threads = threads;
        this.batchSize = batchSize;
        this.seed = seed;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.augmenter = augmenter;
        int m = this.indices.length;
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
        String threadName = "isthmus-batches-" + THREADS.incrementAndGet();
        this.team = new ThreadTeam(threads, threadName);
        this.worker = Thread.ofPlatform()
                .name(threadName)
                .daemon(true)
                .unstarted(this::work);
        this.worker.start();
    }

    /**
     * The default loader thread count: the cores the training step leaves
     * free, at least 1 and at most 4. Where the step takes every core (oneDNN
     * and the simd backend do), one thread: a loader thread more would only
     * take its time from the step.
     *
     * @param stepThreads the threads the training step runs on
     */
    public static int defaultThreads(int stepThreads) {
        return Math.clamp(Runtime.getRuntime().availableProcessors() - (long) stepThreads, 1, 4);
    }

    /** The loader threads. */
    public int threads() {
        return threads;
    }

    /** What the last epoch run that ended measured; null before one has ended. */
    public Timing lastEpoch() {
        return last;
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

    /** The dataset indices in the order epoch e visits them (a new array). */
    public int[] order(int epoch) {
        int[] out = new int[indices.length];
        fillOrder(epoch, out);
        return out;
    }

    private void fillOrder(int epoch, int[] out) {
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
        LockSupport.unpark(worker);
        boolean interrupted = false;
        while (true) {
            try {
                worker.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        team.close();
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
        active = new EpochIterator(gen, epoch);
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

    /**
     * The next message from the worker; notices a worker that died without a
     * word. Parks while there is none (a blocking queue's wait would allocate a
     * node each time); the worker unparks this thread after each hand-over.
     */
    private Object take() {
        Object m = ready.poll();
        if (m != null) {
            return m;
        }
        consumer = Thread.currentThread();
        try {
            while ((m = ready.poll()) == null) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new IllegalStateException("BatchLoader(" + name + "): interrupted");
                }
                if (!worker.isAlive()) {
                    throw new IllegalStateException("BatchLoader(" + name + "): the background thread is gone");
                }
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
            }
            return m;
        } finally {
            consumer = null;
        }
    }

    /** Gives a buffer back to the worker and wakes it if it waits for one. */
    private void giveBack(Batch b) {
        free.add(b);
        LockSupport.unpark(worker);
    }

    private final class EpochIterator implements Iterator<Batch> {
        private final int gen;
        private final int epoch;
        private long waitNanos;  // time spent in take()
        private Batch current; // handed to the caller
        private Batch next;    // taken from the queue, not yet handed out
        private boolean done;
        private boolean abandoned;

        EpochIterator(int gen, int epoch) {
            this.gen = gen;
            this.epoch = epoch;
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
            long t0 = System.nanoTime();
            Object m = take();
            waitNanos += System.nanoTime() - t0;
            if (m instanceof End end) {
                assert end.generation() == gen;
                done = true;
                last = new Timing(epoch, end.batch(), end.images(), waitNanos * 1e-9, end.fillNanos() * 1e-9, threads);
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
                giveBack(current);
                current = null;
            }
        }

        /** Gives back the buffers and drains what the worker made for this run until its end. */
        void abandon() {
            release();
            if (next != null) {
                giveBack(next);
                next = null;
            }
            if (!done) {
                done = true;
                abandoned = true;
                while (true) {
                    Object m = take();
                    if (m instanceof Batch b) {
                        giveBack(b);
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
                Request r = requests.take(); // once per epoch: its allocation when it waits does not matter
                int batch = 0;
                long images = 0, fillNanos = 0;
                Batch b = null; // a buffer this thread holds; given back if filling it fails
                try {
                    fillOrder(r.epoch(), workerOrder);
                    for (; batch < batches && generation == r.generation(); batch++) {
                        b = takeFree(r.generation());
                        if (b == null) {
                            break;
                        }
                        long t0 = System.nanoTime();
                        fill(b, r, batch);
                        fillNanos += System.nanoTime() - t0;
                        images += b.size;
                        hand(b);
                        b = null;
                    }
                    if (b != null) {
                        free.add(b);
                    }
                    hand(new End(r.generation(), null, batch, images, fillNanos));
                } catch (InterruptedException e) {
                    throw e;
                } catch (Throwable t) {
                    if (b != null) {
                        free.add(b);
                    }
                    hand(new End(r.generation(), t, batch, images, fillNanos));
                }
            }
        } catch (InterruptedException e) {
            // close(): stop
        }
    }

    /** A free buffer, parking until the caller gives one back; null when the run is abandoned. */
    private Batch takeFree(int gen) throws InterruptedException {
        Batch b;
        while ((b = free.poll()) == null) {
            if (generation != gen) {
                return null;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
        }
        return b;
    }

    /** Hands a batch or an end to the caller and wakes it. The queue holds every buffer and one end: never full. */
    private void hand(Object m) throws InterruptedException {
        ready.put(m);
        LockSupport.unpark(consumer);
    }

    private void fill(Batch b, Request r, int number) {
        int start = number * batchSize;
        int size = Math.min(batchSize, workerOrder.length - start);
        b.size = size;
        b.number = number;
        b.epoch = r.epoch();
        b.generation = r.generation();
        for (int j = 0; j < size; j++) {
            b.indices[j] = workerOrder[start + j];
        }
        if (source == null) {
            copyImages(b, start, size);
        }
        if (source != null || augmenter != null) {
            filling = b;
            fillingSeed = Seeds.mix(seed ^ AUGMENT_SALT, r.epoch());
            team.run(size, fillSample);
            filling = null;
        }
    }

    /** Copies the dataset's images and labels of the batch, consecutive indices as one block. */
    private void copyImages(Batch b, int start, int size) {
        long imageBytes = sampleBytes;
        MemorySegment src = data.images(); // (N, C, H, W) f32
        int[] labels = data.labelArray();
        for (int j = 0; j < size; ) {
            int first = workerOrder[start + j];
            int run = 1;
            while (j + run < size && workerOrder[start + j + run] == first + run) {
                run++;
            }
            MemorySegment.copy(src, first * imageBytes, b.images, j * imageBytes, run * imageBytes);
            j += run;
        }
        for (int j = 0; j < size; j++) {
            b.labels.setAtIndex(ValueLayout.JAVA_INT, j, labels[b.indices[j]]);
        }
    }

    /**
     * Sample j of the batch being filled, on any loader thread: rendered from
     * the source, or augmented in place; its random draws seeded by (seed,
     * epoch, dataset index) alone.
     */
    private void fillSample(int j) {
        Batch b = filling;
        int index = b.indices[j];
        Random random = randoms.get();
        random.setSeed(Seeds.mix(fillingSeed, index));
        MemorySegment dst = b.samples[j];
        if (source != null) {
            b.labels.setAtIndex(ValueLayout.JAVA_INT, j, source.label(index));
            source.render(index, dst, random);
        } else {
            augmenter.augment(dst, data.channels(), data.height(), data.width(), random);
        }
    }
}

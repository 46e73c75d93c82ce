package dev.isthmus.nn;

import dev.isthmus.engine.Communicator;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;
import java.util.zip.CRC32;

/**
 * Data-parallel training in PyTorch DDP's recipe, over a {@link Communicator}: each rank holds
 * the whole model, trains on its shard of every batch, and all ranks apply the same update.
 *
 * <ul>
 * <li>{@link #broadcastFromRoot}: rank 0's weights (and optimizer state, step count and learning
 *     rate, for a resumed run) go to every rank before training.</li>
 * <li>Data: every rank shuffles with the same seed and takes its shard (BatchLoader's rank
 *     constructor, PyTorch's DistributedSampler). The global batch is ranks x the local batch.</li>
 * <li>Gradients: the loss gradient is scaled by 1/ranks, so the summed allreduce is the mean over
 *     the global batch. They are grouped in buckets of whole layers in reverse layer order (the
 *     order backward finishes them): 1 MiB for the first, 25 MiB for the rest (DDP's defaults; a
 *     layer larger than that is a bucket alone). A bucket's non-blocking allreduce starts right
 *     after the backward of its first layer, and every pending one is tested (MPI_Test) after each
 *     layer, because Debian's Open MPI has no asynchronous progress thread; the step waits for the
 *     rest before the optimizer runs. The buckets are the same on every rank, started in the
 *     same order.</li>
 * <li>Learning rate: the update is the one a single process with the global batch would make,
 *     so the same lr trains the same way (the equivalence test: 2 x 32 against 1 x 64). Growing the
 *     global batch k times, scale the lr by k (Goyal et al. 2017's linear rule) with a warm-up.</li>
 * <li>Evaluation: each rank evaluates a contiguous shard and the metrics are summed
 *     ({@link #reduce}); decisions (best epoch, early stop) are rank 0's, broadcast
 *     ({@link #agree}); only rank 0 ({@link #isRoot}) prints and writes files.</li>
 * <li>{@link #checkWeights}: a CRC32 of the weights, compared across ranks after every epoch.</li>
 * </ul>
 *
 * <p>Install it with {@link Trainer#dataParallel}. With one rank every call is a no-op.
 */
public final class DataParallel {
    /** DDP's bucket sizes: a small first bucket so that communication starts early, then 25 MiB. */
    public static final long FIRST_BUCKET_BYTES = 1L << 20, BUCKET_BYTES = 25L << 20;

    /** A contiguous range of the gradient slab: the parameters of layers [firstLayer, lastLayer]. */
    public record Bucket(int firstLayer, int lastLayer, long offset, long elements) {}

    private final Communicator comm;
    private final Sequential model;
    private final List<Bucket> buckets;                 // in the order they are started: last layers first
    private final Tensor[] views;                       // (elements) each bucket's view of the gradient slab
    private final Communicator.Pending[] pending;
    private int started;                                // buckets started in this backward pass
    private long steps, exposedNanos, backwardNanos;
    private long backwardStart;
    private LongConsumer stepListener;

    /** Buckets for {@code model}'s gradients (compiled for training) and the per-layer hook. */
    public DataParallel(Communicator comm, Sequential model) {
        this(comm, model, FIRST_BUCKET_BYTES, BUCKET_BYTES);
    }

    /** With other bucket sizes (tests; 0 and 0: one bucket per layer). */
    public DataParallel(Communicator comm, Sequential model, long firstBucketBytes, long bucketBytes) {
        this.comm = comm;
        this.model = model;
        this.buckets = buckets(model, firstBucketBytes, bucketBytes);
        this.views = new Tensor[buckets.size()];
        Tensor grads = model.parameters().grads();
        for (int b = 0; b < views.length; b++) {
            views[b] = grads.view(buckets.get(b).offset(), Shape.of(Math.toIntExact(buckets.get(b).elements())));
        }
        this.pending = new Communicator.Pending[buckets.size()];
        if (comm.size() > 1) model.onLayerBackward(this::afterLayer);
    }

    /** Layers in reverse order, grouped while a bucket is under its cap; layers without parameters join any bucket. */
    static List<Bucket> buckets(Sequential model, long firstBucketBytes, long bucketBytes) {
        int layers = model.layers().size();
        long[] start = new long[layers], count = new long[layers];
        java.util.Arrays.fill(start, -1);
        for (Parameter p : model.parameters()) {
            String layer = p.name().substring(0, p.name().lastIndexOf('.'));
            int i = model.indexOf(layer);
            if (start[i] < 0) start[i] = p.offset();
            count[i] += p.elements();
        }
        List<Bucket> result = new ArrayList<>();
        int hi = -1, lo = -1;
        long offset = -1, elements = 0;
        for (int i = layers - 1; i >= 0; i--) {
            if (count[i] == 0) continue;
            if (hi < 0) hi = i;
            lo = i;
            offset = start[i];
            elements += count[i];
            long cap = result.isEmpty() ? firstBucketBytes : bucketBytes;
            if (elements * Float.BYTES >= cap) {
                result.add(new Bucket(lo, hi, offset, elements));
                hi = -1;
                elements = 0;
            }
        }
        if (elements > 0) result.add(new Bucket(lo, hi, offset, elements));
        return List.copyOf(result);
    }

    public int rank() { return comm.rank(); }

    public int size() { return comm.size(); }

    /** Whether this is rank 0, the one that prints and writes. */
    public boolean isRoot() { return comm.rank() == 0; }

    public Communicator communicator() { return comm; }

    public List<Bucket> buckets() { return buckets; }

    /** Calls {@code listener} with the step count after every synchronised step (progress, fault tests); null for none. */
    public void onStep(LongConsumer listener) { this.stepListener = listener; }

    /**
     * Makes every rank's weights rank 0's, and with an optimizer its state, step count and
     * learning rate: at the start of training and after rank 0 alone loaded a checkpoint.
     */
    public void broadcastFromRoot(Optimizer optimizer) {
        if (comm.size() == 1) return;
        comm.broadcast(model.parameters().values(), 0);
        if (optimizer == null) return;
        comm.broadcast(optimizer.state(), 0);
        double[] meta = {optimizer.steps(), optimizer.lr()};
        comm.broadcast(meta, 0);
        optimizer.setSteps((long) meta[0]);
        optimizer.setLr((float) meta[1]);
    }

    /** Rank 0's value of {@code value}, on every rank (the epoch a resumed run starts after). */
    public int broadcastInt(int value) {
        double[] v = {value};
        comm.broadcast(v, 0);
        return (int) v[0];
    }

    /** Rank 0's decision, on every rank, so that all ranks stop (or keep weights) together. */
    public boolean agree(boolean decision) {
        if (comm.size() == 1) return decision;
        double[] v = {decision ? 1 : 0};
        comm.broadcast(v, 0);
        return v[0] != 0;
    }

    /** The mean over ranks of each value (training loss and error of an epoch). */
    public double[] average(double[] values) {
        if (comm.size() == 1) return values;
        double[] v = values.clone();
        comm.allreduceSum(v);
        for (int i = 0; i < v.length; i++) v[i] /= comm.size();
        return v;
    }

    /** This rank's contiguous part [from, to) of {@code n} evaluation samples. */
    public int shardStart(int n) { return (int) ((long) n * comm.rank() / comm.size()); }

    public int shardEnd(int n) { return (int) ((long) n * (comm.rank() + 1) / comm.size()); }

    /** The metrics of the whole evaluation from each rank's metrics of samples [start, ...) of {@code total}. */
    public Metrics reduce(Metrics local, int classes, int start, int total) {
        double[] packed = local.pack(start, total);
        comm.allreduceSum(packed);
        return Metrics.unpack(classes, packed);
    }

    /** Before backward: the local mean loss gradient becomes its share of the global mean. */
    void beforeBackward(Tensor diffLogits) {
        started = 0;
        backwardStart = System.nanoTime();
        if (comm.size() == 1) return;
        float scale = 1f / comm.size();
        model.backend().axpy(scale - 1f, diffLogits, diffLogits);   // d += (1/n - 1) d: d / n, exact for powers of two
    }

    /** After layer {@code layer}'s backward: start the buckets it completes, advance the others. */
    private void afterLayer(int layer) {
        while (started < buckets.size() && buckets.get(started).firstLayer() == layer) {
            pending[started] = comm.allreduceSumAsync(views[started]);
            started++;
        }
        long t0 = System.nanoTime();
        for (int b = 0; b < started; b++) pending[b].test();
        exposedNanos += System.nanoTime() - t0;
    }

    /** After backward: wait for every bucket (starting any that no layer completed). */
    void afterBackward() {
        long t0 = System.nanoTime();
        if (comm.size() > 1) {
            while (started < buckets.size()) {
                pending[started] = comm.allreduceSumAsync(views[started]);
                started++;
            }
            for (int b = 0; b < started; b++) pending[b].await();
        }
        long t1 = System.nanoTime();
        exposedNanos += t1 - t0;
        backwardNanos += t1 - backwardStart;
        steps++;
        if (stepListener != null) stepListener.accept(steps);
    }

    /**
     * Compares a CRC32 of the weights across ranks; throws naming the ranks that differ from
     * rank 0 (they no longer train the same model: a non-deterministic kernel, a lost update).
     */
    public void checkWeights(int epoch) {
        if (comm.size() == 1) return;
        CRC32 crc = new CRC32();
        crc.update(model.parameters().values().segment().asByteBuffer());
        double[] sums = new double[comm.size()];
        sums[comm.rank()] = crc.getValue();
        comm.allreduceSum(sums);
        List<String> differ = new ArrayList<>();
        for (int r = 1; r < sums.length; r++) {
            if (sums[r] != sums[0]) differ.add(String.format(Locale.ROOT, "rank %d %08x", r, (long) sums[r]));
        }
        if (!differ.isEmpty()) {
            throw new IllegalStateException(String.format(Locale.ROOT, "after epoch %d the weights differ across ranks: rank 0 %08x, %s",
                    epoch, (long) sums[0], String.join(", ", differ)));
        }
    }

    /** Synchronised steps so far. */
    public long steps() { return steps; }

    /** Seconds per step spent in MPI with nothing else running (tests between layers and the final waits). */
    public double exposedSecondsPerStep() { return steps == 0 ? 0 : exposedNanos / 1e9 / steps; }

    /** Seconds per step from the start of backward to the end of the last wait. */
    public double backwardSecondsPerStep() { return steps == 0 ? 0 : backwardNanos / 1e9 / steps; }

    /** Clears the step timings (after a warm-up). */
    public void resetTimings() {
        steps = 0;
        exposedNanos = 0;
        backwardNanos = 0;
    }

    /** "2 ranks (Open MPI v4.1.4), 4 buckets: 1.0, 25.3, ... MiB". */
    public String describe() {
        StringBuilder s = new StringBuilder(comm.describe()).append(", ").append(buckets.size()).append(" gradient buckets (");
        for (int b = 0; b < buckets.size(); b++) {
            s.append(b == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", buckets.get(b).elements() * 4 / 1048576.0)).append(" MiB");
        }
        return s.append(")").toString();
    }
}

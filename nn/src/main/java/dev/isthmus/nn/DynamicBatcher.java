package dev.isthmus.nn;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Dynamic batching over a {@link Predictor} (opt-in): concurrent single-sample requests are queued,
 * gathered for at most {@code maxDelayMicros} after the first of a batch (0: only what is queued
 * at that moment) and up to {@code maxBatch}, run as one batch, and answered separately. Each
 * answer carries its queue time (enqueue to batch start) and compute time (the batch's predict).
 *
 * <p>One dispatcher thread gathers and runs batches, so batches run one after another; the
 * predictor's contexts serve any other callers. The queue is bounded: a full queue rejects with
 * {@link RejectedExecutionException}. Thread-safety: {@link #predict} may be called from any number
 * of platform or virtual threads at once (a caller parks until its answer is written). {@link #close}
 * fails queued requests with {@link IllegalStateException}, lets the running batch finish, and does
 * not close the predictor.
 */
public final class DynamicBatcher implements AutoCloseable {
    /** How one request was served: nanoseconds queued and computing, and the size of its batch. */
    public record Timing(long queueNanos, long computeNanos, int batch) {}

    private static final class Request {
        final float[] input, output;
        final long enqueued = System.nanoTime();
        final Thread caller = Thread.currentThread();
        volatile boolean done;
        Timing timing;
        RuntimeException failure;

        Request(float[] input, float[] output) {
            this.input = input;
            this.output = output;
        }
    }

    private final Predictor predictor;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final int in, out;
    private final ArrayBlockingQueue<Request> queue;
    private final Request[] batch;
    private final float[] inputs, outputs;
    private final Thread dispatcher;
    private volatile boolean closed;

    /** Batches of up to {@code maxBatch} (at most the predictor's), gathered for up to {@code maxDelayMicros}. */
    public DynamicBatcher(Predictor predictor, int maxBatch, long maxDelayMicros) {
        if (maxBatch < 1 || maxBatch > predictor.options().maxBatch()) {
            throw new IllegalArgumentException("maxBatch must be in [1, " + predictor.options().maxBatch()
                    + "] (the predictor's maxBatch), got " + maxBatch);
        }
        if (maxDelayMicros < 0) throw new IllegalArgumentException("maxDelayMicros must be >= 0, got " + maxDelayMicros);
        this.predictor = predictor;
        this.maxBatch = maxBatch;
        this.maxDelayNanos = maxDelayMicros * 1000;
        this.in = Math.toIntExact(predictor.model().inputShape().elements());
        this.out = Math.toIntExact(predictor.model().outputShape().elements());
        this.queue = new ArrayBlockingQueue<>(Math.max(1024, 16 * maxBatch));
        this.batch = new Request[maxBatch];
        this.inputs = new float[maxBatch * in];
        this.outputs = new float[maxBatch * out];
        this.dispatcher = Thread.ofPlatform().daemon().name("isthmus-batcher").start(this::dispatch);
    }

    public int maxBatch() { return maxBatch; }

    public long maxDelayMicros() { return maxDelayNanos / 1000; }

    /** Writes the outputs (logits) of one sample {@code input} (input...) into {@code output}; blocks until done. */
    public Timing predict(float[] input, float[] output) {
        if (input.length != in || output.length != out) {
            throw new IllegalArgumentException("a batched request takes one sample: input " + in + " floats and output "
                    + out + ", got " + input.length + " and " + output.length);
        }
        if (closed) throw new IllegalStateException("the dynamic batcher is closed");
        Request r = new Request(input, output);
        if (!queue.offer(r)) throw new RejectedExecutionException("the batching queue is full (" + queue.size() + " requests)");
        if (closed) drainFailing();   // close() may have drained before our offer
        while (!r.done) LockSupport.park(this);
        if (r.failure != null) throw r.failure;
        return r.timing;
    }

    private void dispatch() {
        while (!closed) {
            Request first;
            try {
                first = queue.poll(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                break;
            }
            if (first == null) continue;
            int n = gather(first);
            run(n);
        }
        drainFailing();
    }

    /** Fills {@link #batch} starting with {@code first}: what is queued now, then what comes before the deadline. */
    private int gather(Request first) {
        batch[0] = first;
        int n = 1;
        long deadline = first.enqueued + maxDelayNanos;
        while (n < maxBatch) {
            Request r = queue.poll();
            if (r == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                try {
                    r = queue.poll(left, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    break;
                }
                if (r == null) break;
            }
            batch[n++] = r;
        }
        return n;
    }

    private void run(int n) {
        long start = System.nanoTime();
        RuntimeException failure = null;
        try {
            for (int i = 0; i < n; i++) System.arraycopy(batch[i].input, 0, inputs, i * in, in);
            predictor.predict(inputs, n, outputs);
        } catch (RuntimeException e) {
            failure = e;
        }
        long compute = System.nanoTime() - start;
        for (int i = 0; i < n; i++) {
            Request r = batch[i];
            batch[i] = null;
            if (failure == null) {
                System.arraycopy(outputs, i * out, r.output, 0, out);
                r.timing = new Timing(start - r.enqueued, compute, n);
            } else {
                r.failure = failure;
            }
            finish(r);
        }
    }

    private static void finish(Request r) {
        r.done = true;
        LockSupport.unpark(r.caller);
    }

    private void drainFailing() {
        Request r;
        while ((r = queue.poll()) != null) {
            r.failure = new IllegalStateException("the dynamic batcher is closed");
            finish(r);
        }
    }

    /** Stops the dispatcher after its running batch and fails the queued requests. Idempotent. */
    @Override public void close() {
        closed = true;   // the dispatcher sees it within one 50 ms poll (no interrupt: it may be inside a kernel)
        try {
            dispatcher.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drainFailing();
    }
}

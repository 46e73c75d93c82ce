package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Inference over one {@link Model} from any number of threads.
 *
 * <pre>
 *   try (Model model = Model.load(Path.of("model.safetensors"));
 *        Backend backend = new DnnlBackend();
 *        Predictor predictor = Predictor.create(model, backend, Predictor.Options.defaults())) {
 *       List&lt;Predictor.Prediction&gt; top = predictor.top(pixels, 5);   // from any thread
 *   }
 * </pre>
 *
 * <p>Design (DESIGN.md, "Model, plan, context"): the weights are copied onto the backend once and
 * shared by every caller. Per-call state (activations, op plans with their scratchpads, the input
 * buffer) lives in a bounded pool of execution contexts; a call leases one, runs, gives it back. A
 * context is a separately compiled {@link Sequential} of the model's layers whose parameters are
 * views of the one shared weight slab ({@link Sequential#compileShared}), one per batch size it
 * has served, kept in a small per-context cache ({@link Options#plansPerContext}, least recently
 * used evicted). Nothing is bound to a thread: callers may be short-lived or virtual threads.
 *
 * <p>Batch sizes 1 to {@link Options#maxBatch}: with {@link BatchPlans#EXACT} a batch of n runs a
 * plan made for n; with {@link BatchPlans#PADDED} it runs the plan of the next power of two (at
 * most maxBatch), the unused rows ignored, so fewer plans serve all sizes.
 *
 * <p>Thread-safety: every method is safe to call from any number of threads at once. When every
 * context is busy a call waits or fails fast with {@link RejectedExecutionException}
 * ({@link Options#whenBusy}). {@link #close} makes new calls fail with
 * {@link IllegalStateException}, wakes callers waiting for a context (they fail the same way),
 * lets running calls finish, then frees everything; it never frees memory a call is using.
 */
public final class Predictor implements AutoCloseable {
    /** What a call does when every context is busy. */
    public enum WhenBusy { WAIT, FAIL }

    /** How batch sizes map to compiled plans. */
    public enum BatchPlans { EXACT, PADDED }

    /**
     * @param maxBatch        the largest batch one call may pass
     * @param contexts        execution contexts: at most this many calls run at once
     * @param whenBusy        wait for a context, or fail fast
     * @param plans           a plan per batch size, or padded to powers of two
     * @param plansPerContext compiled batch sizes each context keeps (least recently used evicted)
     */
    public record Options(int maxBatch, int contexts, WhenBusy whenBusy, BatchPlans plans, int plansPerContext) {
        public Options {
            if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
            if (contexts < 1) throw new IllegalArgumentException("contexts must be >= 1, got " + contexts);
            if (plansPerContext < 1) throw new IllegalArgumentException("plansPerContext must be >= 1, got " + plansPerContext);
            if (whenBusy == null || plans == null) throw new IllegalArgumentException("whenBusy and plans must not be null");
        }

        /**
         * maxBatch 64, one context per available processor, wait when busy, plans padded to powers of
         * two (7 cover 1..64, so a context never compiles on the request path once warm), 8 per context.
         */
        public static Options defaults() {
            return new Options(64, Runtime.getRuntime().availableProcessors(), WhenBusy.WAIT, BatchPlans.PADDED, 8);
        }

        public Options withMaxBatch(int n) { return new Options(n, contexts, whenBusy, plans, plansPerContext); }

        public Options withContexts(int n) { return new Options(maxBatch, n, whenBusy, plans, plansPerContext); }

        public Options withWhenBusy(WhenBusy w) { return new Options(maxBatch, contexts, w, plans, plansPerContext); }

        public Options withPlans(BatchPlans p) { return new Options(maxBatch, contexts, whenBusy, p, plansPerContext); }

        public Options withPlansPerContext(int n) { return new Options(maxBatch, contexts, whenBusy, plans, n); }
    }

    /** One class of a top-k answer. */
    public record Prediction(int index, String label, float probability) {}

    private final Model model;
    private final Backend backend;
    private final boolean ownsBackend;
    private final Options options;
    private final Shape input;            // per sample
    private final int inElements, outElements;
    private final Tensor weights;         // (P) on the backend, shared by every context
    private final Context[] contexts;
    private final Semaphore free;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final LongAdder compiles = new LongAdder();
    private volatile boolean closed;
    private boolean freed;                // guarded by this

    private Predictor(Model model, Backend backend, boolean ownsBackend, Options options) {
        this.model = model;
        this.backend = backend;
        this.ownsBackend = ownsBackend;
        this.options = options;
        this.input = model.inputShape();
        this.inElements = Math.toIntExact(input.elements());
        this.outElements = Math.toIntExact(model.outputShape().elements());
        this.weights = backend.allocate(model.weights().shape(), model.weights().dtype());
        model.weights().copyTo(weights);
        this.contexts = new Context[options.contexts()];
        for (int i = 0; i < contexts.length; i++) contexts[i] = new Context();
        this.free = new Semaphore(options.contexts());
    }

    /** A predictor over {@code model} on {@code backend}; the caller keeps owning the backend and closes it after this. */
    public static Predictor create(Model model, Backend backend, Options options) {
        return new Predictor(model, backend, false, options);
    }

    /** A predictor that owns {@code backend} and closes it with itself. */
    public static Predictor createOwning(Model model, Backend backend, Options options) {
        try {
            return new Predictor(model, backend, true, options);
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    public Model model() { return model; }

    public Backend backend() { return backend; }

    public Options options() { return options; }

    /** Plans compiled so far, all contexts and batch sizes together. */
    public long compileCount() { return compiles.sum(); }

    /**
     * Runs {@code batch} samples from {@code input} ((batch, input...) row-major, from index 0)
     * and writes the model's outputs (logits, (batch, classes)) into {@code output}. Allocates
     * nothing on the Java heap once the batch size has been planned in the leased context.
     */
    public void predict(float[] input, int batch, float[] output) {
        checkBatch(batch);
        requireLength("input", input.length, (long) batch * inElements);
        requireLength("output", output.length, (long) batch * outElements);
        Context c = enter();
        try {
            Tensor x = c.input(batch);
            MemorySegment.copy(input, 0, x.segment(), ValueLayout.JAVA_FLOAT, 0, batch * inElements);
            Tensor y = c.run(batch, x);
            MemorySegment.copy(y.segment(), ValueLayout.JAVA_FLOAT, 0, output, 0, batch * outElements);
        } finally {
            exit(c);
        }
    }

    /** {@link #predict(float[], int, float[])} between native segments (float32, native order). */
    public void predict(MemorySegment input, int batch, MemorySegment output) {
        checkBatch(batch);
        requireLength("input", input.byteSize() / Float.BYTES, (long) batch * inElements);
        requireLength("output", output.byteSize() / Float.BYTES, (long) batch * outElements);
        Context c = enter();
        try {
            Tensor x = c.input(batch);
            MemorySegment.copy(input, 0, x.segment(), 0, (long) batch * inElements * Float.BYTES);
            Tensor y = c.run(batch, x);
            MemorySegment.copy(y.segment(), 0, output, 0, (long) batch * outElements * Float.BYTES);
        } finally {
            exit(c);
        }
    }

    /**
     * Compiles the plan for {@code batch} in every context and runs it {@code rounds} times on
     * zeros, so that the first real calls find plans made and code compiled by the JIT. Holds every
     * context while it runs (other calls wait or are rejected as configured).
     */
    public void warmUp(int batch, int rounds) {
        checkBatch(batch);
        inFlight.incrementAndGet();
        try {
            if (closed) throw closedException();
            free.acquireUninterruptibly(contexts.length);
            try {
                if (closed) throw closedException();
                float[] x = new float[batch * inElements], y = new float[batch * outElements];
                for (Context c : contexts) {
                    if (!c.tryAcquire()) throw new IllegalStateException("a context is busy although every permit is held: a bug in Predictor");
                    try {
                        for (int r = 0; r < Math.max(1, rounds); r++) {
                            Tensor in = c.input(batch);
                            MemorySegment.copy(x, 0, in.segment(), ValueLayout.JAVA_FLOAT, 0, x.length);
                            Tensor out = c.run(batch, in);
                            MemorySegment.copy(out.segment(), ValueLayout.JAVA_FLOAT, 0, y, 0, y.length);
                        }
                    } finally {
                        c.busy.set(false);
                    }
                }
            } finally {
                free.release(contexts.length);
            }
        } finally {
            leave();
        }
    }

    /** The {@code k} most probable classes (softmax of the logits) for one sample (input...). */
    public List<Prediction> top(float[] sample, int k) {
        if (k < 1) throw new IllegalArgumentException("k must be >= 1, got " + k);
        float[] logits = new float[outElements];
        predict(sample, 1, logits);
        return top(logits, k, model.labels());
    }

    /** The {@code k} largest softmax probabilities of {@code logits}, largest first (ties: lower index first). */
    public static List<Prediction> top(float[] logits, int k, List<String> labels) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : logits) max = Math.max(max, v);
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i] - max);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < p.length; i++) order.add(i);
        order.sort((a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
        List<Prediction> out = new ArrayList<>();
        for (int i = 0; i < Math.min(k, p.length); i++) {
            int c = order.get(i);
            out.add(new Prediction(c, labels.get(c), (float) (p[c] / sum)));
        }
        return out;
    }

    private void checkBatch(int batch) {
        if (batch < 1 || batch > options.maxBatch()) {
            throw new IllegalArgumentException("batch " + batch + " is outside [1, " + options.maxBatch()
                    + "] (Predictor.Options.maxBatch)");
        }
    }

    private void requireLength(String what, long have, long need) {
        if (have < need) {
            throw new IllegalArgumentException(what + " holds " + have + " floats, the batch needs " + need
                    + " (input " + input + ", " + outElements + " outputs per sample)");
        }
    }

    /** Counts the call in, then leases a context (waiting or failing as configured). */
    private Context enter() {
        inFlight.incrementAndGet();   // before the closed check: close() then waits for this call
        try {
            if (closed) throw closedException();
            if (options.whenBusy() == WhenBusy.FAIL) {
                if (!free.tryAcquire()) {
                    throw new RejectedExecutionException("all " + contexts.length + " execution contexts of the predictor are busy"
                            + " (Predictor.Options: contexts " + contexts.length + ", whenBusy FAIL)");
                }
            } else {
                free.acquireUninterruptibly();
            }
            if (closed) {   // woken by close()
                free.release();
                throw closedException();
            }
            return lease();
        } catch (RuntimeException | Error e) {
            leave();
            throw e;
        }
    }

    private Context lease() {
        for (Context c : contexts) if (c.tryAcquire()) return c;
        throw new IllegalStateException("no free context although a permit was held: a bug in Predictor");
    }

    private void exit(Context c) {
        c.busy.set(false);
        free.release();
        leave();
    }

    private void leave() {
        if (inFlight.decrementAndGet() == 0 && closed) {
            synchronized (this) { notifyAll(); }
        }
    }

    private IllegalStateException closedException() {
        return new IllegalStateException("the predictor for " + model.name() + " is closed");
    }

    /**
     * Stops new calls, wakes waiting ones (they throw {@link IllegalStateException}), waits for
     * running calls to finish, then frees every context, the shared weights, and the backend if
     * owned. Idempotent; safe to call while other threads call {@link #predict}.
     */
    @Override public void close() {
        synchronized (this) {
            boolean first = !closed;
            closed = true;   // before the release: a caller that gets a permit from it sees closed
            if (first) free.release(1 << 20);   // waiters wake, see closed, and leave
        }
        boolean interrupted = false;
        synchronized (this) {
            while (inFlight.get() > 0) {
                try {
                    wait(10);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (freed) return;
            freed = true;
        }
        try {
            for (Context c : contexts) c.close();
            weights.close();
        } finally {
            if (ownsBackend) backend.close();
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** One execution context: compiled models per planned batch size over the shared weights, and their input buffers. */
    private final class Context {
        private final AtomicBoolean busy = new AtomicBoolean();
        private final Sequential[] plans = new Sequential[options.maxBatch() + 1];   // by planned batch size
        private final Tensor[] inputs = new Tensor[options.maxBatch() + 1];
        private final long[] lastUse = new long[options.maxBatch() + 1];
        private long clock;
        private int planned;

        boolean tryAcquire() { return !busy.get() && busy.compareAndSet(false, true); }

        /** The batch size the plan for {@code batch} samples is made for. */
        int plannedSize(int batch) {
            if (options.plans() == BatchPlans.EXACT) return batch;
            int p = Integer.highestOneBit(batch);
            return Math.min(p == batch ? p : p << 1, options.maxBatch());
        }

        Tensor input(int batch) {
            int b = plannedSize(batch);
            ensure(b);
            return inputs[b];
        }

        Tensor run(int batch, Tensor x) {
            int b = plannedSize(batch);
            lastUse[b] = ++clock;
            return plans[b].forward(x);
        }

        private void ensure(int b) {
            if (plans[b] != null) return;
            if (planned == options.plansPerContext()) evictLeastRecent();
            Sequential s = model.newLayers();
            try {
                s.compileShared(backend, b, input, weights).eval();
                inputs[b] = backend.allocate(input.prepend(b), weights.dtype());
            } catch (RuntimeException e) {
                s.close();
                throw e;
            }
            plans[b] = s;
            planned++;
            compiles.increment();
        }

        private void evictLeastRecent() {
            int victim = -1;
            for (int b = 1; b < plans.length; b++) {
                if (plans[b] != null && (victim < 0 || lastUse[b] < lastUse[victim])) victim = b;
            }
            drop(victim);
        }

        private void drop(int b) {
            plans[b].close();
            inputs[b].close();
            plans[b] = null;
            inputs[b] = null;
            planned--;
        }

        void close() {
            for (int b = 1; b < plans.length; b++) if (plans[b] != null) drop(b);
        }
    }

    @Override public String toString() {
        return "Predictor(" + model.name() + " on " + backend.kind() + ", " + options + ")";
    }
}

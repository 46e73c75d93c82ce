package dev.isthmus.engine.profile;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a {@link ProfilingBackend}'s plans measured: one {@link Row} per (plan, pass), with its
 * calls, total time, reorders and bytes. Rows are made when plans are created; {@link #rows()}
 * lists those that ran, in the order they first ran (a training step's order: forward, loss,
 * backward, optimizer). {@link #reset()} zeroes the counters, for discarding warm-up steps.
 * Safe to update from several threads.
 */
public final class OpProfile {
    private final List<Row> rows = new CopyOnWriteArrayList<>();
    private final AtomicLong firstCalls = new AtomicLong();

    /** One (plan, pass): what it is, and what its calls cost so far. */
    public static final class Row {
        private final OpProfile owner;
        /** The model's layer ("c1", "conv2+relu2"), or "" for work outside a layer (optimizer, zero_grad). */
        public final String layer;
        /** conv2d, pool2d, eltwise, linear, softmax_cross_entropy, optimizer, lrn, dropout, fill or axpy. */
        public final String op;
        /** forward, forward_inference, backward_data, backward_weights, backward_activation, backward, step. */
        public final String pass;
        public final String backend;
        /** The plan's geometry as its spec prints it. */
        public final String shape;
        /** Floating-point operations of one call (multiply-adds times two); 0 where that is not the point. */
        public final long flopsPerCall;
        private final LongAdder calls = new LongAdder(), nanos = new LongAdder(), reorders = new LongAdder();
        private volatile long bytesPerCall;
        private volatile long order = -1;

        Row(OpProfile owner, String layer, String op, String pass, String backend, String shape, long flopsPerCall) {
            this.owner = owner;
            this.layer = layer;
            this.op = op;
            this.pass = pass;
            this.backend = backend;
            this.shape = shape;
            this.flopsPerCall = flopsPerCall;
        }

        void add(long elapsedNanos, long reorderCount, long bytes) {
            if (order < 0) order = owner.firstCalls.getAndIncrement();
            calls.increment();
            nanos.add(elapsedNanos);
            if (reorderCount != 0) reorders.add(reorderCount);
            bytesPerCall = bytes;
        }

        public long calls() { return calls.sum(); }

        public long nanos() { return nanos.sum(); }

        public long reorders() { return reorders.sum(); }

        /** Bytes of the tensor arguments of the last call, read and written (each tensor once per role). */
        public long bytesPerCall() { return bytesPerCall; }

        /** Mean nanoseconds per call; 0 before the first. */
        public double nanosPerCall() {
            long c = calls();
            return c == 0 ? 0 : (double) nanos() / c;
        }

        private void reset() {
            calls.reset();
            nanos.reset();
            reorders.reset();
        }

        @Override public String toString() {
            return (layer.isEmpty() ? "-" : layer) + " " + op + " " + pass + ": " + calls() + " calls, " + nanos() + " ns";
        }
    }

    Row row(String layer, String op, String pass, String backend, String shape, long flopsPerCall) {
        Row r = new Row(this, layer, op, pass, backend, shape, flopsPerCall);
        rows.add(r);
        return r;
    }

    /** The rows that ran since the last reset, in the order they first ran. */
    public List<Row> rows() {
        List<Row> ran = new ArrayList<>();
        for (Row r : rows) if (r.calls() > 0) ran.add(r);
        ran.sort(Comparator.comparingLong(r -> r.order));
        return ran;
    }

    /** Total nanoseconds over every row. */
    public long totalNanos() {
        long t = 0;
        for (Row r : rows) t += r.nanos();
        return t;
    }

    /** Zeroes every counter (and the order rows first ran in). */
    public void reset() {
        for (Row r : rows) {
            r.reset();
            r.order = -1;
        }
        firstCalls.set(0);
    }
}

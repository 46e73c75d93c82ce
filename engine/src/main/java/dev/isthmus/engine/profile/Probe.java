package dev.isthmus.engine.profile;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.dnnl.DnnlBackend;

import java.util.function.LongSupplier;

/**
 * The clock every profiled call goes through: the wall time of the call, the oneDNN reorders it
 * executed, the bytes of its tensors into its {@link OpProfile.Row}, and a
 * {@link PlanExecutionEvent} when a recording asks for one. The usage is one shape per call:
 *
 * <pre>
 *   PlanExecutionEvent e = new PlanExecutionEvent();   // scalar-replaced by C2: no allocation
 *   long t0 = probe.start(e), r0 = probe.reorders();
 *   inner.forward(...);
 *   probe.done(row, e, t0, r0, bytes);
 * </pre>
 */
final class Probe {
    final OpProfile profile;
    final String backend;
    private final LongSupplier reorderCount;   // null: the backend has no reorders

    Probe(Backend inner) {
        this.profile = new OpProfile();
        this.backend = inner.kind().cliName();
        this.reorderCount = inner instanceof DnnlBackend d ? d::reorderCount : null;
    }

    long reorders() { return reorderCount == null ? 0 : reorderCount.getAsLong(); }

    long start(PlanExecutionEvent e) {
        e.begin();
        return System.nanoTime();
    }

    void done(OpProfile.Row row, PlanExecutionEvent e, long t0, long r0, long bytes) {
        long elapsed = System.nanoTime() - t0;
        e.end();
        long reorders = reorderCount == null ? 0 : reorderCount.getAsLong() - r0;
        row.add(elapsed, reorders, bytes);
        if (e.shouldCommit()) {
            e.op = row.op;
            e.layer = row.layer;
            e.pass = row.pass;
            e.backend = row.backend;
            e.shape = row.shape;
            e.bytes = bytes;
            e.reorders = reorders;
            e.commit();
        }
    }

    /** Bytes of a tensor argument; 0 for an absent one (no bias, no workspace). */
    static long bytes(Tensor t) { return t == null ? 0 : t.byteSize(); }
}

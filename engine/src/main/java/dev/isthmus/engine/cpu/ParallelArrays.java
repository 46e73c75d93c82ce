package dev.isthmus.engine.cpu;

import java.lang.foreign.MemorySegment;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.Tensor;

/**
 * A host backend's {@code fill} and {@code axpy} over {@link ArrayKernels}: split over its
 * {@link ThreadTeam} for large tensors (zeroing AlexNet's 61 million gradients, adding a
 * layer's gradient scratch), on the calling thread otherwise; nothing allocated per call.
 */
public final class ParallelArrays {
    private final ThreadTeam team;
    private final Fill fill = new Fill();
    private final Axpy axpy = new Axpy();

    public ParallelArrays(ThreadTeam team) {
        this.team = team;
    }

    /** Sets every element of a float tensor to {@code value}. */
    public void fill(Tensor t, float value) {
        if (t == null) throw new IllegalArgumentException("fill: tensor is null");
        long n = Checks.elements("fill", "tensor", t, t.elements()).elements();
        if (n < ThreadTeam.MIN_PARALLEL) {
            ArrayKernels.fill(t.segment(), n, value);
            return;
        }
        synchronized (fill) {   // the body's fields are this call's
            fill.dst = t.segment();
            fill.value = value;
            team.run(n, fill);
            fill.dst = null;
        }
    }

    /** y += alpha x, element-wise over tensors of equal element count. */
    public void axpy(float alpha, Tensor x, Tensor y) {
        if (x == null) throw new IllegalArgumentException("axpy: x is null");
        if (y == null) throw new IllegalArgumentException("axpy: y is null");
        Checks.elements("axpy", "x", x, y.elements());   // names x when the counts differ
        long n = x.elements();
        Checks.elements("axpy", "y", y, n);
        if (n < ThreadTeam.MIN_PARALLEL) {
            ArrayKernels.axpy(alpha, x.segment(), y.segment(), n);
            return;
        }
        synchronized (axpy) {
            axpy.alpha = alpha;
            axpy.x = x.segment();
            axpy.y = y.segment();
            team.run(n, axpy);
            axpy.x = axpy.y = null;
        }
    }

    private static final class Fill implements ThreadTeam.RangeBody {
        MemorySegment dst;
        float value;

        @Override public void run(long from, long to) { ArrayKernels.fillRange(dst, from, to, value); }
    }

    private static final class Axpy implements ThreadTeam.RangeBody {
        MemorySegment x, y;
        float alpha;

        @Override public void run(long from, long to) { ArrayKernels.axpyRange(alpha, x, y, from, to); }
    }
}

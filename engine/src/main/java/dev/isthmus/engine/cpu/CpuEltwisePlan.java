package dev.isthmus.engine.cpu;

import java.lang.foreign.MemorySegment;

import dev.isthmus.engine.Checks;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Tensor;

/**
 * An {@link EltwisePlan} on host tensors over {@link EltwiseKernels}: split over a
 * {@link ThreadTeam} when one is given and the tensor is large (AlexNet's activations),
 * else on the calling thread; nothing allocated per call, owns nothing native. Tensors may have
 * any shape with {@code elements} float32 elements.
 */
public final class CpuEltwisePlan implements EltwisePlan {
    private final EltwiseKind kind;
    private final long elements;
    private final String op;
    private final ThreadTeam team;   // null: the calling thread only
    private final Forward forward = new Forward();
    private final Backward backward = new Backward();

    public CpuEltwisePlan(EltwiseKind kind, long elements) {
        this(kind, elements, null);
    }

    public CpuEltwisePlan(EltwiseKind kind, long elements, ThreadTeam team) {
        if (kind == null) throw new IllegalArgumentException("eltwise kind is null");
        this.kind = kind;
        this.elements = Checks.positive("eltwise elements", elements);
        this.op = "eltwise(" + kind + ", " + elements + ")";
        this.team = team;
    }

    @Override public EltwiseKind kind() { return kind; }

    @Override public long elements() { return elements; }

    @Override public void forward(Tensor dst, Tensor src) {
        Checks.elements(op, "dst", dst, elements);
        Checks.elements(op, "src", src, elements);
        if (team == null || elements < ThreadTeam.MIN_PARALLEL) {
            EltwiseKernels.forward(kind, dst.segment(), src.segment(), elements);
            return;
        }
        synchronized (forward) {   // the body's fields are this call's: one parallel call per plan at a time
            forward.dst = dst.segment();
            forward.src = src.segment();
            team.run(elements, forward);
            forward.dst = forward.src = null;
        }
    }

    @Override public void backward(Tensor diffSrc, Tensor diffDst, Tensor dst) {
        Checks.elements(op, "diffSrc", diffSrc, elements);
        Checks.elements(op, "diffDst", diffDst, elements);
        Checks.elements(op, "dst", dst, elements);
        if (team == null || elements < ThreadTeam.MIN_PARALLEL) {
            EltwiseKernels.backward(kind, diffSrc.segment(), diffDst.segment(), dst.segment(), elements);
            return;
        }
        synchronized (backward) {
            backward.diffSrc = diffSrc.segment();
            backward.diffDst = diffDst.segment();
            backward.dst = dst.segment();
            team.run(elements, backward);
            backward.diffSrc = backward.diffDst = backward.dst = null;
        }
    }

    @Override public void close() {}

    private final class Forward implements ThreadTeam.RangeBody {
        MemorySegment dst, src;

        @Override public void run(long from, long to) { EltwiseKernels.forwardRange(kind, dst, src, from, to); }
    }

    private final class Backward implements ThreadTeam.RangeBody {
        MemorySegment diffSrc, diffDst, dst;

        @Override public void run(long from, long to) { EltwiseKernels.backwardRange(kind, diffSrc, diffDst, dst, from, to); }
    }

    @Override public String toString() { return "cpu " + op; }
}

package dev.isthmus.nn;

import dev.isthmus.engine.DType;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import java.util.Map;

/**
 * Inverted dropout (torch.nn.Dropout; Srivastava et al. 2014): while training each element is
 * zeroed with probability p and the survivors are scaled by 1/(1-p); in inference it is the
 * identity and returns its input itself, without a copy.
 *
 * <p>The mask of training step s is drawn from a seed derived from the model's compile seed,
 * this layer's index and s, its own count of training forwards since compiling: a run is
 * reproducible for a fixed seed, on any backend and thread count, and every step draws a new
 * mask. The mask (one byte per element) is kept for the backward.
 */
public final class Dropout extends AbstractLayer {
    private final float p;

    private DropoutPlan plan;    // null when compiled for inference or p = 0
    private Tensor dst;          // (N, input...)
    private Tensor diffSrc;      // (N, input...)
    private Tensor mask;         // (N * input elements) U8, 1 = kept
    private long compileSeed;
    private int index;
    private long steps;          // training forwards since compile
    private boolean masked;      // whether the last forward applied a mask

    public Dropout() { this(0.5f); }

    public Dropout(float p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        }
        this.p = p;
    }

    public float p() { return p; }

    @Override public Shape outputShape(Shape input) { return input; }

    @Override public void compile(CompileContext ctx) {
        compileSeed = ctx.seed();
        index = ctx.index();
        steps = 0;
        masked = false;
        if (!ctx.training() || p == 0f) return;
        long elements = ctx.batchedInput().elements();
        plan = ctx.own(ctx.backend().dropout(elements, p));
        dst = ctx.allocate(ctx.batchedOutput());
        diffSrc = ctx.allocate(ctx.batchedInput());
        mask = ctx.allocate(Shape.of(Math.toIntExact(elements)), DType.U8);
    }

    @Override public Tensor forward(Tensor input, boolean training) {
        masked = training && plan != null;
        if (!masked) return input;
        plan.forwardTraining(dst, mask, input, stepSeed(compileSeed, index, steps++));
        return dst;
    }

    @Override public Tensor backward(Tensor diffDst, boolean needInputGradient) {
        if (!needInputGradient) return null;
        if (!masked) return diffDst;
        plan.backward(diffSrc, diffDst, mask);
        return diffSrc;
    }

    /** Training forwards since the last compile: the s of the next mask is this value. */
    public long steps() { return steps; }

    /**
     * The mask seed of step {@code step} of the layer at {@code index} in a model compiled with
     * {@code seed}: SplitMix64's finaliser over the three, so that neighbouring layers and
     * steps get unrelated masks.
     */
    static long stepSeed(long seed, int index, long step) {
        long z = seed ^ (index + 1L) * 0xD1B54A32D192ED03L;
        z += (step + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override public void close() {
        plan = null;
        dst = diffSrc = mask = null;
        masked = false;
    }

    /** The constructor's argument, for a model file's architecture ({@link Architecture}). */
    Map<String, Object> config() { return Map.of("p", (double) p); }

    @Override public String toString() { return "Dropout(p=" + p + ")"; }
}

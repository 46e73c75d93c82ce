package dev.isthmus.engine;

/**
 * How a plan is created beyond its spec: for which {@link Propagation}, in which layout its src
 * arrives (the previous plan's {@code dstLayout()}), and whether its dst must be plain (the next
 * consumer reads row-major memory) or may be the backend's own layout. A backend that has one kind
 * of plan and plain layouts only ignores the hints.
 *
 * @param propagation training (forward and backward passes) or inference (the forward only)
 * @param src         the layout of the src tensors the plan will be given
 * @param plainDst    true when dst must be plain; false lets the primitive pick its layout
 * @param keepWeights true when the caller keeps the weights in the plan's {@code weightsLayout()} (converted
 *                    once, not per call): the plan's weights argument is then that layout, not plain
 */
public record PlanHints(Propagation propagation, Layout src, boolean plainDst, boolean keepWeights) {
    public static final PlanHints TRAINING = new PlanHints(Propagation.TRAINING, Layout.PLAIN, true, false);
    public static final PlanHints INFERENCE = new PlanHints(Propagation.INFERENCE, Layout.PLAIN, true, false);

    public PlanHints {
        if (propagation == null) throw new IllegalArgumentException("propagation is null");
        if (src == null) throw new IllegalArgumentException("src layout is null");
    }

    public static PlanHints of(Propagation propagation) {
        return propagation.training() ? TRAINING : INFERENCE;
    }

    public boolean training() { return propagation.training(); }

    /** These hints with src arriving in {@code layout}. */
    public PlanHints withSrc(Layout layout) { return new PlanHints(propagation, layout, plainDst, keepWeights); }

    /** These hints with dst plain ({@code true}) or in the backend's choice ({@code false}). */
    public PlanHints withPlainDst(boolean plain) { return new PlanHints(propagation, src, plain, keepWeights); }

    /** These hints with weights kept in the plan's layout by the caller ({@code true}) or given plain. */
    public PlanHints withKeptWeights(boolean keep) { return new PlanHints(propagation, src, plainDst, keep); }
}

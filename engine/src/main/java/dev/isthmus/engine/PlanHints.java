package dev.isthmus.engine;

/**
 * How a plan is created beyond its spec: for which {@link Propagation}. A backend that has
 * only one kind of plan ignores the hints: its plans then serve both propagations.
 *
 * @param propagation training (forward and backward passes) or inference (the forward only)
 */
public record PlanHints(Propagation propagation) {
    public static final PlanHints TRAINING = new PlanHints(Propagation.TRAINING);
    public static final PlanHints INFERENCE = new PlanHints(Propagation.INFERENCE);

    public PlanHints {
        if (propagation == null) throw new IllegalArgumentException("propagation is null");
    }

    public static PlanHints of(Propagation propagation) {
        return propagation.training() ? TRAINING : INFERENCE;
    }

    public boolean training() { return propagation.training(); }
}

package dev.isthmus.nn;

import dev.isthmus.engine.Shape;

/** The name every layer carries and the argument checks their constructors share. */
abstract class AbstractLayer implements Layer {
    private String name;

    @Override public String name() { return name; }

    @Override public void setName(String name) { this.name = name; }

    /** Sets the name and returns this, for declaring models: {@code new Conv2d(1, 6, 5).named("c1")}. */
    public Layer named(String name) {
        this.name = name;
        return this;
    }

    int positive(String what, int value) {
        if (value <= 0) throw new IllegalArgumentException(getClass().getSimpleName() + ": " + what + " must be > 0, got " + value);
        return value;
    }

    void requireRank(Shape input, int rank) {
        if (input.rank() != rank) {
            throw new IllegalArgumentException(this + ": expected a per-sample input of rank " + rank
                    + (rank == 3 ? " (C, H, W)" : "") + ", got " + input);
        }
    }
}

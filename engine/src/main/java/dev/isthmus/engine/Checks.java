package dev.isthmus.engine;

/** Argument checks for the engine's public entry points; each message names the value. */
public final class Checks {
    private Checks() {}

    public static int positive(String what, int value) {
        if (value <= 0) throw new IllegalArgumentException(what + " must be > 0, got " + value);
        return value;
    }

    public static long positive(String what, long value) {
        if (value <= 0) throw new IllegalArgumentException(what + " must be > 0, got " + value);
        return value;
    }

    public static int nonNegative(String what, int value) {
        if (value < 0) throw new IllegalArgumentException(what + " must be >= 0, got " + value);
        return value;
    }

    public static float finiteNonNegative(String what, float value) {
        if (!(value >= 0) || Float.isInfinite(value)) {
            throw new IllegalArgumentException(what + " must be finite and >= 0, got " + value);
        }
        return value;
    }

    public static float inRange(String what, float value, float lowInclusive, float highExclusive) {
        if (!(value >= lowInclusive && value < highExclusive)) {
            throw new IllegalArgumentException(what + " must be in [" + lowInclusive + ", " + highExclusive + "), got " + value);
        }
        return value;
    }

    /**
     * Throws unless {@code t} has shape {@code expected}, type {@code dtype} and plain layout; {@code what}
     * names the argument.
     */
    public static Tensor tensor(String op, String what, Tensor t, Shape expected, DType dtype) {
        return plain(op, what, tensorInAnyLayout(op, what, t, expected, dtype));
    }

    /**
     * Like {@link #tensor} but in any layout: for plans that accept a backend's own layout and check
     * it themselves.
     */
    public static Tensor tensorInAnyLayout(String op, String what, Tensor t, Shape expected, DType dtype) {
        if (t == null) throw new IllegalArgumentException(op + ": " + what + " is null, expected " + expected);
        t.checkOpen();
        if (!t.shape().equals(expected) || t.dtype() != dtype) {
            throw new IllegalArgumentException(op + ": " + what + " has shape " + t.shape() + " " + t.dtype()
                    + ", expected " + expected + " " + dtype);
        }
        return t;
    }

    /** Throws unless {@code t} is in plain layout, naming its layout: this op reads and writes row-major memory. */
    public static Tensor plain(String op, String what, Tensor t) {
        if (!t.layout().isPlain()) {
            throw new IllegalArgumentException(op + ": " + what + " " + t.shape() + " is in layout " + t.layout().name()
                    + ", expected plain; convert it with copyTo into a plain tensor");
        }
        return t;
    }

    /** Like {@link #tensor} for a plain F32 tensor with {@code elements} elements in any shape. */
    public static Tensor elements(String op, String what, Tensor t, long elements) {
        return plain(op, what, elementsInAnyLayout(op, what, t, elements));
    }

    /** Like {@link #elements} in any layout: for plans that check layouts themselves. */
    public static Tensor elementsInAnyLayout(String op, String what, Tensor t, long elements) {
        if (t == null) throw new IllegalArgumentException(op + ": " + what + " is null");
        t.checkOpen();
        if (t.elements() != elements || t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": " + what + " has " + t.elements() + " " + t.dtype()
                    + " elements " + t.shape() + ", expected " + elements + " F32");
        }
        return t;
    }

    /** Throws unless {@code t} is an opaque {@link DType#U8} workspace of exactly {@code bytes} bytes, in any shape. */
    public static Tensor workspace(String op, String what, Tensor t, long bytes) {
        if (t == null) throw new IllegalArgumentException(op + ": " + what + " is null, expected " + bytes + " U8 bytes");
        t.checkOpen();
        if (t.byteSize() != bytes || t.dtype() != DType.U8) {
            throw new IllegalArgumentException(op + ": " + what + " has shape " + t.shape() + " " + t.dtype()
                    + " (" + t.byteSize() + " bytes), expected " + bytes + " bytes U8");
        }
        return t;
    }

    /**
     * A bias argument: with {@code expected} (the op has a bias) an F32 tensor of that shape, without
     * (null: the op has none) null; {@code owner} names the op in the message ("convolution", "layer").
     */
    public static Tensor bias(String op, String what, Tensor bias, Shape expected, String owner) {
        if (expected == null) {
            if (bias != null) throw new IllegalArgumentException(op + ": " + what + " " + bias.shape() + " given but the " + owner + " has no bias");
            return null;
        }
        if (bias == null) throw new IllegalArgumentException(op + ": " + what + " is null but the " + owner + " has a bias");
        return tensor(op, what, bias, expected, DType.F32);
    }

    /** The arguments of {@link OptimizerPlan#step}: every backend's plan checks the same things. */
    public static void optimizerStep(String op, Tensor params, Tensor state, Tensor grads, float lr, long step,
                                     long elements, Shape stateShape) {
        elements(op, "params", params, elements);
        elements(op, "grads", grads, elements);
        tensor(op, "state", state, stateShape, DType.F32);
        finiteNonNegative("learning rate", lr);
        if (step < 1) throw new IllegalArgumentException(op + ": step counts from 1, got " + step);
    }

    /**
     * The workspace of a plan that needs {@code bytes} of it: an opaque U8 tensor of exactly that size,
     * or, when it needs none, null or any U8 tensor (the caller may pass what {@code workspaceBytes()}
     * told it to allocate for a sibling plan).
     */
    public static Tensor optionalWorkspace(String op, Tensor workspace, long bytes) {
        if (bytes > 0) return workspace(op, "workspace", workspace, bytes);
        if (workspace == null) return null;
        workspace.checkOpen();
        if (workspace.dtype() != DType.U8) {
            throw new IllegalArgumentException(op + ": workspace has type " + workspace.dtype() + ", expected U8 (or null: this plan needs 0 bytes)");
        }
        return workspace;
    }

    /** The workspace of a pooling plan: {@code bytes} of U8 for max pooling, none (null) for average pooling. */
    public static Tensor poolWorkspace(String op, Tensor workspace, long bytes) {
        if (bytes > 0) return workspace(op, "workspace", workspace, bytes);
        if (workspace != null) throw new IllegalArgumentException(op + ": average pooling takes no workspace, got " + workspace.shape());
        return null;
    }
}

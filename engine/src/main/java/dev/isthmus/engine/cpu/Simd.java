package dev.isthmus.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD width of every Vector API kernel in this package, decided once per JVM.
 *
 * <p>{@code FloatVector.SPECIES_PREFERRED} by default (16 lanes with AVX-512). The system
 * property {@code isthmus.simd.lanes} overrides it: 2, 4, 8 or 16 picks that species, and
 * 0 sends every kernel to its scalar twin. Anything else fails at class initialisation
 * with a message naming the property and the value.
 *
 * <p>{@link #SPECIES} is always a valid species, even when {@link #VECTOR} is false, so
 * tests can call the vector kernels directly and compare them with their scalar twins.
 */
public final class Simd {
    private Simd() {}

    /** The property that overrides the width; 0 forces the scalar kernels. */
    public static final String LANES_PROPERTY = "isthmus.simd.lanes";

    /** The species the vector kernels use. */
    public static final VectorSpecies<Float> SPECIES;

    /** Whether the dispatching entry points take the vector kernels (false: the scalar twins). */
    public static final boolean VECTOR;

    static {
        String value = System.getProperty(LANES_PROPERTY);
        if (value == null || value.isBlank()) {
            SPECIES = FloatVector.SPECIES_PREFERRED;
            VECTOR = true;
        } else {
            int lanes;
            try {
                lanes = Integer.parseInt(value.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + LANES_PROPERTY + "=" + value
                        + ": expected 0 (scalar), 2, 4, 8 or 16", e);
            }
            VECTOR = lanes != 0;
            SPECIES = lanes == 0 ? FloatVector.SPECIES_PREFERRED : speciesOf(lanes);
        }
    }

    private static VectorSpecies<Float> speciesOf(int lanes) {
        return switch (lanes) {
            case 2 -> FloatVector.SPECIES_64;
            case 4 -> FloatVector.SPECIES_128;
            case 8 -> FloatVector.SPECIES_256;
            case 16 -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("-D" + LANES_PROPERTY + "=" + lanes
                    + ": expected 0 (scalar), 2, 4, 8 or 16 float lanes; this CPU prefers "
                    + FloatVector.SPECIES_PREFERRED.length() + " (" + VectorShape.preferredShape() + ")");
        };
    }

    /**
     * The lanes of {@code v} added in lane order. Not {@code reduceLanes(ADD)}: its order differs
     * between the JIT's intrinsic and the interpreter's fallback, so the same call could give
     * different bits before and after compilation, and a forward pass would not repeat itself.
     */
    public static float sumLanes(FloatVector v) {
        float s = 0;
        for (int l = 0; l < v.length(); l++) s += v.lane(l);
        return s;
    }

    /** One line on the SIMD width, for logs and {@code isthmus info}. */
    public static String describe() {
        return VECTOR ? "Vector API, " + SPECIES.length() + " float lanes" : "scalar (" + LANES_PROPERTY + "=0)";
    }
}

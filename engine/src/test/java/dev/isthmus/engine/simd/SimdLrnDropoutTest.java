package dev.isthmus.engine.simd;

import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.reference.LrnDropoutConformance;

/** The simd backend's LRN (split over its pool) against the reference, its dropout against the specification. */
class SimdLrnDropoutTest {
    private static SimdBackend backend;

    @BeforeAll static void open() { backend = new SimdBackend(3); }

    @AfterAll static void close() { backend.close(); }

    static List<LrnSpec> lrns() {
        List<LrnSpec> all = new java.util.ArrayList<>(LrnDropoutConformance.oddSpecs());
        all.addAll(LrnDropoutConformance.evenSpecs());
        return all;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lrns")
    void lrnMatchesReference(LrnSpec spec) {
        LrnDropoutConformance.lrnMatchesReference(backend, spec);
    }

    static List<Object[]> dropouts() { return LrnDropoutConformance.dropoutCases(); }

    @ParameterizedTest(name = "n={0}, p={1}, seed={2}")
    @MethodSource("dropouts")
    void dropoutMaskIsTheSpecification(int n, float p, long seed) {
        LrnDropoutConformance.dropoutMatchesSpecification(backend, n, p, seed);
    }

    @ParameterizedTest @ValueSource(floats = {0.1f, 0.5f, 0.9f})
    void dropoutKeepsAboutOneMinusP(float p) {
        LrnDropoutConformance.keepsAboutOneMinusP(backend, p);
    }
}

package dev.isthmus.engine.reference;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TensorScope;

/**
 * The checks every CPU backend's LRN and dropout pass, with the reference backend as the oracle
 * (host tensors only; the opencl backend has its own in OpenClOpsTest): LRN forward and backward
 * against {@link ReferenceBackend} at awkward sizes, the dropout mask bit for bit against
 * {@link DropoutPlan#keep} with survivors scaled by exactly {@code (float) (1 / (1 - p))}, and the
 * fraction kept near 1 - p.
 */
public final class LrnDropoutConformance {
    private LrnDropoutConformance() {}

    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    /**
     * Channels 1, 3, 7, 17 times sizes 1, 3, 5 over three kinds of constants (AlexNet's: alpha 5e-4,
     * beta 0.75, k 2; k 1 with a large alpha, where the normalisation dominates; a beta other than 0.75),
     * plus planes longer than one kernel chunk (128 positions) and one big enough to be split over threads.
     */
    public static List<LrnSpec> oddSpecs() {
        float[][] constants = {{5e-4f, 0.75f, 2f}, {2f, 0.75f, 1f}, {0.9f, 0.6f, 1.5f}};
        List<LrnSpec> specs = new ArrayList<>();
        int i = 0;
        for (int channels : new int[] {1, 3, 7, 17})
            for (int size : new int[] {1, 3, 5}) {
                float[] c = constants[i++ % constants.length];
                specs.add(new LrnSpec(2, channels, 5, 7, size, c[0], c[1], c[2]));
            }
        specs.add(new LrnSpec(1, 7, 13, 11, 5, 5e-4f, 0.75f, 2f));    // 143 positions: two chunks
        specs.add(new LrnSpec(3, 17, 1, 1, 5, 1f, 0.75f, 1f));        // 1 x 1 planes
        specs.add(new LrnSpec(2, 17, 31, 29, 5, 3f, 0.75f, 1f));      // big enough for several threads
        specs.add(new LrnSpec(2, 9, 17, 15, 3, 2f, 0.6f, 1f));        // pow, several chunks
        return specs;
    }

    /** Even sizes: the window [c - (size-1)/2, c + size/2] is one channel longer after c than before. */
    public static List<LrnSpec> evenSpecs() {
        return List.of(new LrnSpec(2, 7, 3, 5, 2, 1f, 0.75f, 1f), new LrnSpec(1, 16, 3, 3, 4, 1f, 0.75f, 1.5f));
    }

    /** Forward (training and inference) and backward of {@code backend} against the reference at spec. */
    public static void lrnMatchesReference(Backend backend, LrnSpec spec) {
        lrnMatchesReference(backend.kind().cliName(), backend::lrn, spec);
    }

    /** Like {@link #lrnMatchesReference(Backend, LrnSpec)} for plans made by {@code planner}, named {@code name}. */
    public static void lrnMatchesReference(String name, Function<LrnSpec, LrnPlan> planner, LrnSpec spec) {
        try (TensorScope s = new TensorScope(); LrnPlan plan = planner.apply(spec); LrnPlan oracle = REFERENCE.lrn(spec)) {
            Shape shape = spec.shape();
            Tensor src = s.uniform(1, -2, 2, shape), diffDst = s.uniform(2, -1, 1, shape);
            Tensor expected = s.zeros(shape), expectedDiff = s.zeros(shape);
            oracle.forwardInference(expected, src);
            oracle.backward(expectedDiff, diffDst, src, null);

            Tensor workspace = plan.workspaceBytes() == 0 ? null
                    : s.allocate(Shape.of(Math.toIntExact(plan.workspaceBytes())), DType.U8);
            Tensor dst = s.zeros(shape), inferred = s.zeros(shape), diffSrc = s.zeros(shape);
            diffSrc.fill(7f);   // the backward writes, it does not accumulate
            plan.forwardTraining(dst, workspace, src);
            plan.forwardInference(inferred, src);
            plan.backward(diffSrc, diffDst, src, workspace);
            String what = name + " " + spec;
            assertClose(what + " forward training", expected, dst, 1e-6, 1e-5);
            assertClose(what + " forward inference", expected, inferred, 1e-6, 1e-5);
            assertClose(what + " backward", expectedDiff, diffSrc, 1e-5, 1e-4);
        }
    }

    /** n values, probabilities and seeds for {@link #dropoutMatchesSpecification}. */
    public static List<Object[]> dropoutCases() {
        List<Object[]> cases = new ArrayList<>();
        long[] seeds = {42L, -7_654_321_987L, Long.MIN_VALUE};
        int k = 0;
        for (float p : new float[] {0f, 0.1f, 0.5f, 0.9f})
            for (int n : new int[] {1, 7, 1023}) cases.add(new Object[] {n, p, seeds[k++ % seeds.length]});
        cases.add(new Object[] {4099, 0.3f, 1L});
        return cases;
    }

    /**
     * The mask is the specification bit for bit; dst and diffSrc are the survivors times the float
     * 1 / (1 - p), bit for bit; tensors and mask are views at odd offsets; in place gives the same bits.
     */
    public static void dropoutMatchesSpecification(Backend backend, int n, float p, long seed) {
        dropoutMatchesSpecification(backend.kind().cliName(), backend::dropout, n, p, seed);
    }

    /** Makes a dropout plan: {@code Backend::dropout}, or a plan's constructor. */
    @FunctionalInterface
    public interface DropoutPlanner {
        DropoutPlan plan(long elements, float p);
    }

    public static void dropoutMatchesSpecification(String name, DropoutPlanner planner, int n, float p, long seed) {
        try (TensorScope s = new TensorScope(); DropoutPlan plan = planner.plan(n, p)) {
            assertEquals(n, plan.elements());
            assertEquals(p, plan.probability());
            Tensor src = s.add(s.uniform(1, -1, 1, n + 1).view(1, Shape.of(n)));
            Tensor diffDst = s.uniform(2, -1, 1, n);
            Tensor maskSlab = s.allocate(Shape.of(n + 3), DType.U8);
            Tensor mask = s.add(maskSlab.view(3, Shape.of(n)));
            Tensor dst = s.add(s.zeros(n + 3).view(3, Shape.of(n))), diffSrc = s.zeros(n);
            plan.forwardTraining(dst, mask, src, seed);
            plan.backward(diffSrc, diffDst, mask);

            byte[] expectedMask = new byte[n];
            float[] expectedDst = new float[n], expectedDiff = new float[n];
            float scale = (float) (1.0 / (1.0 - p));
            float[] x = src.toFloatArray(), dy = diffDst.toFloatArray();
            for (int i = 0; i < n; i++) {
                boolean keep = DropoutPlan.keep(seed, i, p);
                expectedMask[i] = (byte) (keep ? 1 : 0);
                expectedDst[i] = keep ? x[i] * scale : 0f;
                expectedDiff[i] = keep ? dy[i] * scale : 0f;
            }
            String what = name + " dropout(" + n + ", p=" + p + ", seed=" + seed + ")";
            assertArrayEquals(expectedMask, bytes(mask), what + " mask");
            assertEquals(0, bytes(maskSlab)[0] | bytes(maskSlab)[1] | bytes(maskSlab)[2], what + ": bytes before the mask view untouched");
            assertBitwise(what + " forward", expectedDst, dst.toFloatArray());
            assertBitwise(what + " backward", expectedDiff, diffSrc.toFloatArray());
            if (p == 0f) assertBitwise(what + " p = 0 is the identity", x, dst.toFloatArray());

            plan.forwardTraining(src, mask, src, seed);          // in place
            plan.backward(diffDst, diffDst, mask);
            assertBitwise(what + " forward in place", expectedDst, src.toFloatArray());
            assertBitwise(what + " backward in place", expectedDiff, diffDst.toFloatArray());
        }
    }

    /** Over 2^20 elements the fraction kept is 1 - p within 6 standard deviations, for a few seeds. */
    public static void keepsAboutOneMinusP(Backend backend, float p) {
        keepsAboutOneMinusP(backend.kind().cliName(), backend::dropout, p);
    }

    public static void keepsAboutOneMinusP(String name, DropoutPlanner planner, float p) {
        int n = 1 << 20;
        try (TensorScope s = new TensorScope(); DropoutPlan plan = planner.plan(n, p)) {
            Tensor src = s.zeros(n), dst = s.zeros(n), mask = s.allocate(Shape.of(n), DType.U8);
            src.fill(1f);
            double sigma = Math.sqrt(p * (1.0 - p) / n);
            for (long seed : new long[] {0, 1, 2, 0xDEADBEEFL}) {
                plan.forwardTraining(dst, mask, src, seed);
                long kept = 0;
                for (byte b : bytes(mask)) kept += b;
                double fraction = (double) kept / n;
                assertTrue(Math.abs(fraction - (1 - p)) <= 6 * sigma + 1e-12,
                        name + " p=" + p + " seed " + seed + ": kept " + fraction + ", expected " + (1 - p) + " +- " + 6 * sigma);
            }
        }
    }

    public static byte[] bytes(Tensor t) {
        return t.segment().toArray(ValueLayout.JAVA_BYTE);
    }
}

package dev.isthmus.nn;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The same seeded LeNet-5 training run on every backend gives the same loss curve as the
 * reference backend, within float tolerance, over a few dozen steps: forward, loss, backward and
 * SGD updates agree end to end, not only op by op.
 */
class CrossBackendTrainingTest {
    private static final int BATCH = 16, STEPS = 30;

    @ParameterizedTest
    @EnumSource(value = BackendKind.class, names = {"DNNL", "SIMD", "OPENCL"})
    void leNetLossCurveMatchesTheReference(BackendKind kind) {
        if (kind == BackendKind.OPENCL) {
            assumeTrue(NativeLibraries.openClProblem().isEmpty(), () -> "no OpenCL: " + NativeLibraries.openClProblem().orElse(""));
        }
        float[] expected = referenceCurve();
        float[] actual = lossCurve(kind);
        double worst = 0;
        for (int i = 0; i < STEPS; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]) / Math.max(1e-3, Math.abs(expected[i])));
        assertTrue(worst < 2e-3, kind.cliName() + " loss curve differs from the reference by " + worst + " (relative)\n  reference "
                + Arrays.toString(expected) + "\n  " + kind.cliName() + " " + Arrays.toString(actual));
        assertTrue(expected[STEPS - 1] < 0.8 * expected[0], "the loss falls: " + Arrays.toString(expected));
    }

    private static float[] reference;

    /** The reference backend's curve, computed once for all backends (it is the slow one). */
    private static synchronized float[] referenceCurve() {
        if (reference == null) reference = lossCurve(BackendKind.REFERENCE);
        return reference;
    }

    /** Losses of STEPS SGD steps on a fixed, seeded set of batches (relu variant: it learns within a few steps). */
    private static float[] lossCurve(BackendKind kind) {
        float[] losses = new float[STEPS];
        try (Backend backend = Backends.create(kind);
             Sequential model = LeNet5.relu().compile(backend, BATCH, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 11);
             var sgd = new SGD(model.parameters(), 0.05f, 0.9f, 5e-4f, false);
             var loss = new CrossEntropyLoss().compile(backend, BATCH, 10);
             Tensor x = backend.allocate(Shape.of(BATCH, 1, 32, 32), DType.F32);
             Tensor labels = backend.allocate(Shape.of(BATCH), DType.S32)) {
            for (int step = 0; step < STEPS; step++) {
                int batch = step % 4;   // four fixed batches, revisited: the loss must fall
                x.copyFrom(TestTensors.uniform(100 + batch, BATCH * 32 * 32, -0.1f, 1.175f));
                labels.copyFrom(labelsFor(batch));
                losses[step] = loss.forward(model.forward(x), labels);
                sgd.zeroGrad();
                model.backward(loss.backward());
                sgd.step();
            }
        }
        return losses;
    }

    private static int[] labelsFor(int batch) {
        int[] l = new int[BATCH];
        for (int i = 0; i < BATCH; i++) l[i] = (i * 7 + batch * 3) % 10;
        return l;
    }
}

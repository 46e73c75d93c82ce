package dev.isthmus.engine.testing;

import static dev.isthmus.engine.testing.DeviceTensors.bytes;
import static dev.isthmus.engine.testing.DeviceTensors.deviceBytes;
import static dev.isthmus.engine.testing.DeviceTensors.deviceZeros;
import static dev.isthmus.engine.testing.DeviceTensors.toDevice;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.DropoutPlan;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.LinearPlan;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.LrnPlan;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.OptimizerPlan;
import dev.isthmus.engine.OptimizerSpec;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SoftmaxCrossEntropyPlan;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract every device backend's tensors and ops meet (the opencl and cuda backends run it;
 * a subclass names the backend): device tensors zeroed, copied both ways through views, refused
 * once closed or when a host tensor is handed to a device plan. Every op of the backend, forward and backward, against the reference backend at awkward
 * sizes (seeded data; device tensors copied with {@link Tensor#copyTo}); finite differences for
 * one convolution and for LRN (which the reference backend lacks: its forward is checked against
 * the scalar twin below); the dropout mask bit for bit against {@link DropoutPlan#keep}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DeviceOpsContract {
    private Backend device;
    private ReferenceBackend reference;

    /** The backend under test, or null when it cannot run here (then {@link #assumeDevice} skips). */
    protected abstract Backend openDevice();

    /** Skips each test, saying why, when the device cannot run here; by default nothing to check. */
    protected void assumeDevice(Backend device) {}

    @BeforeAll void open() {
        device = openDevice();
        reference = new ReferenceBackend();
    }

    @BeforeEach void needsTheDevice() { assumeDevice(device); }

    @AfterAll void close() {
        if (device != null) device.close();
    }

    // ---- device tensors

    @Test void allocatesZerosAndCopiesBothWaysThroughViews() {
        for (int n : TestTensors.AWKWARD_SIZES) {
            try (TensorScope scope = new TensorScope()) {
                Tensor d = scope.add(device.allocate(Shape.of(n + 2), DType.F32));
                assertEquals(device.device(), d.device());
                assertArrayEquals(new float[n + 2], d.toFloatArray(), "zero-filled");
                float[] values = TestTensors.uniform(n, n, -1, 1);
                Tensor view = scope.add(d.view(1, Shape.of(n)));
                view.copyFrom(values);
                assertArrayEquals(values, view.toFloatArray());
                Tensor host = scope.zeros(n);
                view.copyTo(host);
                assertArrayEquals(values, host.toFloatArray());
                Tensor other = deviceZeros(scope, device, Shape.of(n));
                view.copyTo(other);   // device to device
                assertArrayEquals(values, other.toFloatArray());
                float[] all = d.toFloatArray();
                assertEquals(0f, all[0]);
                assertEquals(0f, all[n + 1]);
                Tensor labels = scope.add(device.allocate(Shape.of(n), DType.S32));
                int[] ints = new int[n];
                for (int i = 0; i < n; i++) ints[i] = i * 7 - 3;
                labels.copyFrom(ints);
                assertArrayEquals(ints, labels.toIntArray());
            }
        }
    }

    @Test void aClosedTensorThrowsAndNeverCrashes() {
        try (TensorScope scope = new TensorScope(); EltwisePlan plan = device.eltwise(EltwiseKind.RELU, 7)) {
            Tensor src = toDevice(scope, device, scope.uniform(1, -1, 1, 7));
            Tensor dst = device.allocate(Shape.of(7), DType.F32);
            Tensor view = dst.view(0, Shape.of(7));
            dst.close();
            assertThrows(IllegalStateException.class, dst::toFloatArray);
            assertThrows(IllegalStateException.class, () -> plan.forward(dst, src));
            assertThrows(IllegalStateException.class, () -> plan.forward(view, src));
            assertThrows(IllegalStateException.class, () -> view.copyFrom(new float[7]));
            assertThrows(IllegalStateException.class, dst::segment);
        }
    }

    @Test void aHostTensorGivenToADevicePlanIsRefused() {
        try (TensorScope scope = new TensorScope(); EltwisePlan plan = device.eltwise(EltwiseKind.TANH, 7)) {
            Tensor host = scope.uniform(1, -1, 1, 7);
            Tensor dst = deviceZeros(scope, device, Shape.of(7));
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forward(dst, host));
            assertTrue(e.getMessage().contains("lives on cpu") && e.getMessage().contains("copyTo"), e.getMessage());
            assertThrows(IllegalStateException.class, dst::segment, "device tensors have no host segment");
        }
    }

    // ---- convolution

    /** The convolutions checked; a backend may add its own. */
    protected List<Conv2dSpec> convolutions() {
        return List.of(
                new Conv2dSpec(1, 1, 7, 7, 1, Window.square(3, 1, 1), 1, true),
                new Conv2dSpec(3, 3, 15, 17, 7, Window.square(5, 2, 2), 1, true),
                new Conv2dSpec(3, 6, 14, 14, 16, Window.square(5, 1, 0), 1, true),          // LeNet C3
                new Conv2dSpec(1, 6, 9, 9, 16, Window.square(3, 2, 1), 2, false),           // groups 2
                new Conv2dSpec(3, 7, 8, 11, 7, Window.square(1, 1, 0), 1, true),            // 1x1
                new Conv2dSpec(1, 3, 33, 33, 33, Window.square(3, 2, 1), 1, true),          // OC past one tile
                new Conv2dSpec(2, 4, 10, 9, 6, new Window(3, 3, 1, 2, 1, 0, 2, 1, 1, 0), 2, true),  // asymmetric, dilated
                new Conv2dSpec(3, 7, 17, 15, 7, new Window(5, 3, 2, 1, 2, 1, 0, 2, 0, 1), 1, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void convolutionMatchesReference(Conv2dSpec spec) {
        try (TensorScope scope = new TensorScope(); Conv2dPlan plan = device.conv2d(spec); Conv2dPlan oracle = reference.conv2d(spec)) {
            Tensor src = scope.uniform(1, -1, 1, spec.srcShape());
            Tensor weights = scope.uniform(2, -1, 1, spec.weightsShape());
            Tensor bias = spec.hasBias() ? scope.uniform(3, -1, 1, spec.biasShape()) : null;
            Tensor diffDst = scope.uniform(4, -1, 1, spec.dstShape());
            Tensor dSrc = toDevice(scope, device, src), dWeights = toDevice(scope, device, weights);
            Tensor dBias = bias == null ? null : toDevice(scope, device, bias), dDiffDst = toDevice(scope, device, diffDst);

            Tensor expected = scope.zeros(spec.dstShape()), actual = deviceZeros(scope, device, spec.dstShape());
            oracle.forward(expected, src, weights, bias);
            plan.forward(actual, dSrc, dWeights, dBias);
            assertClose(spec + " forward", expected, actual, 1e-4, 1e-4);

            Tensor expectedDiffSrc = scope.zeros(spec.srcShape()), diffSrc = deviceZeros(scope, device, spec.srcShape());
            oracle.backwardData(expectedDiffSrc, diffDst, weights);
            plan.backwardData(diffSrc, dDiffDst, dWeights);
            assertClose(spec + " backward data", expectedDiffSrc, diffSrc, 1e-4, 1e-4);

            Tensor expectedDiffWeights = scope.zeros(spec.weightsShape()), diffWeights = deviceZeros(scope, device, spec.weightsShape());
            Tensor expectedDiffBias = spec.hasBias() ? scope.zeros(spec.biasShape()) : null;
            Tensor diffBias = spec.hasBias() ? deviceZeros(scope, device, spec.biasShape()) : null;
            oracle.backwardWeights(expectedDiffWeights, expectedDiffBias, diffDst, src);
            plan.backwardWeights(diffWeights, diffBias, dDiffDst, dSrc);
            assertClose(spec + " backward weights", expectedDiffWeights, diffWeights, 1e-4, 1e-4);
            if (diffBias != null) assertClose(spec + " backward bias", expectedDiffBias, diffBias, 1e-4, 1e-4);
        }
    }

    @Test void convolutionGradientsMatchFiniteDifferences() {
        Conv2dSpec spec = new Conv2dSpec(2, 3, 7, 6, 4, new Window(3, 3, 2, 1, 1, 1, 1, 0, 0, 0), 1, true);
        try (TensorScope scope = new TensorScope(); Conv2dPlan plan = device.conv2d(spec)) {
            Tensor src = toDevice(scope, device, scope.uniform(11, -1, 1, spec.srcShape()));
            Tensor weights = toDevice(scope, device, scope.uniform(12, -1, 1, spec.weightsShape()));
            Tensor bias = toDevice(scope, device, scope.uniform(13, -1, 1, spec.biasShape()));
            Tensor dst = deviceZeros(scope, device, spec.dstShape());
            float[] r = TestTensors.uniform(14, Math.toIntExact(spec.dstShape().elements()), -1, 1);
            Tensor diffDst = toDevice(scope, device, scope.of(r, spec.dstShape()));
            Tensor diffSrc = deviceZeros(scope, device, spec.srcShape());
            Tensor diffWeights = deviceZeros(scope, device, spec.weightsShape()), diffBias = deviceZeros(scope, device, spec.biasShape());
            plan.backwardData(diffSrc, diffDst, weights);
            plan.backwardWeights(diffWeights, diffBias, diffDst, src);
            GradientCheck.check(device.kind().cliName() + " conv diffSrc", src, s -> {
                plan.forward(dst, s, weights, bias);
                return GradientCheck.dot(dst, r);
            }, diffSrc.toFloatArray(), 1e-2, 2e-3, 2e-3);
            GradientCheck.check(device.kind().cliName() + " conv diffWeights", weights, w -> {
                plan.forward(dst, src, w, bias);
                return GradientCheck.dot(dst, r);
            }, diffWeights.toFloatArray(), 1e-2, 2e-3, 2e-3);
            GradientCheck.check(device.kind().cliName() + " conv diffBias", bias, b -> {
                plan.forward(dst, src, weights, b);
                return GradientCheck.dot(dst, r);
            }, diffBias.toFloatArray(), 1e-2, 2e-3, 2e-3);
        }
    }

    static List<Conv2dSpec> fusedConvolutions() { return FusedConvChecks.specs(); }

    /** A fused activation: the device runs its eltwise kernel after the convolution's (see {@link FusedConvChecks}). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fusedConvolutions")
    void fusedActivationMatchesDefinition(Conv2dSpec spec) {
        FusedConvChecks.matchesDefinition(device, spec);
    }

    @Test void fusedActivationGradientsMatchFiniteDifferences() {
        for (EltwiseKind kind : EltwiseKind.values()) FusedConvChecks.gradientsMatchFiniteDifferences(device, kind);
    }

    @Test void backwardActivationWithoutAnActivationIsAnError() {
        FusedConvChecks.refusesBackwardActivationWithoutOne(device);
    }

    // ---- pooling

    static List<Pool2dSpec> pools() {
        List<Pool2dSpec> all = new ArrayList<>();
        for (Pool2dSpec.Kind kind : Pool2dSpec.Kind.values()) {
            all.add(new Pool2dSpec(3, 6, 28, 28, Window.square(2, 2, 0), kind));
            all.add(new Pool2dSpec(1, 7, 13, 15, Window.square(3, 2, 0), kind));                       // overlapping
            all.add(new Pool2dSpec(3, 3, 9, 11, new Window(3, 2, 2, 1, 1, 0, 2, 1, 0, 0), kind));      // asymmetric padding
            all.add(new Pool2dSpec(2, 5, 7, 7, Window.square(3, 1, 1), kind));
            all.add(new Pool2dSpec(1, 1, 1, 1, Window.square(1, 1, 0), kind));
        }
        return all;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pools")
    void poolingMatchesReference(Pool2dSpec spec) {
        try (TensorScope scope = new TensorScope(); Pool2dPlan plan = device.pool2d(spec); Pool2dPlan oracle = reference.pool2d(spec)) {
            assertEquals(oracle.workspaceBytes(), plan.workspaceBytes());
            Tensor src = scope.distinct(1, 0.01f, spec.srcShape());
            Tensor diffDst = scope.uniform(2, -1, 1, spec.dstShape());
            Tensor dSrc = toDevice(scope, device, src), dDiffDst = toDevice(scope, device, diffDst);
            Tensor expected = scope.zeros(spec.dstShape()), actual = deviceZeros(scope, device, spec.dstShape());
            Tensor inference = deviceZeros(scope, device, spec.dstShape());
            Tensor expectedWs = null, actualWs = null;
            if (plan.workspaceBytes() > 0) {
                expectedWs = scope.allocate(Shape.of(Math.toIntExact(plan.workspaceBytes())), DType.U8);
                actualWs = deviceBytes(scope, device, plan.workspaceBytes());
            }
            oracle.forwardTraining(expected, expectedWs, src);
            plan.forwardTraining(actual, actualWs, dSrc);
            plan.forwardInference(inference, dSrc);
            assertClose(spec + " forward", expected, actual, 1e-6, 1e-6);
            assertClose(spec + " inference", expected, inference, 1e-6, 1e-6);
            if (expectedWs != null) assertArrayEquals(bytes(expectedWs), bytes(actualWs), spec + " workspace");

            Tensor expectedDiffSrc = scope.zeros(spec.srcShape()), diffSrc = deviceZeros(scope, device, spec.srcShape());
            oracle.backward(expectedDiffSrc, diffDst, expectedWs);
            plan.backward(diffSrc, dDiffDst, actualWs);
            assertClose(spec + " backward", expectedDiffSrc, diffSrc, 1e-5, 1e-5);
        }
    }

    @Test void maxPoolingTiesTakeTheFirstMaximum() {
        Pool2dSpec spec = new Pool2dSpec(1, 1, 4, 4, Window.square(2, 2, 0), Pool2dSpec.Kind.MAX);
        try (TensorScope scope = new TensorScope(); Pool2dPlan plan = device.pool2d(spec); Pool2dPlan oracle = reference.pool2d(spec)) {
            Tensor src = scope.of(new float[16], 1, 1, 4, 4);   // all equal: every window is a tie
            Tensor ws = deviceBytes(scope, device, plan.workspaceBytes());
            Tensor expectedWs = scope.allocate(Shape.of(16), DType.U8);
            oracle.forwardTraining(scope.zeros(1, 1, 2, 2), expectedWs, src);
            plan.forwardTraining(deviceZeros(scope, device, spec.dstShape()), ws, toDevice(scope, device, src));
            assertArrayEquals(bytes(expectedWs), bytes(ws));
        }
    }

    // ---- element-wise, linear, softmax

    static List<Object[]> eltwiseCases() {
        List<Object[]> all = new ArrayList<>();
        for (EltwiseKind kind : EltwiseKind.values()) for (int n : TestTensors.AWKWARD_SIZES) all.add(new Object[] {kind, n});
        return all;
    }

    @ParameterizedTest(name = "{0} x {1}")
    @MethodSource("eltwiseCases")
    void eltwiseMatchesReference(EltwiseKind kind, int n) {
        try (TensorScope scope = new TensorScope(); EltwisePlan plan = device.eltwise(kind, n); EltwisePlan oracle = reference.eltwise(kind, n)) {
            Tensor src = scope.distinct(1, 4f / n, n);
            Tensor diffDst = scope.uniform(2, -1, 1, n);
            Tensor expected = scope.zeros(n), expectedDiff = scope.zeros(n);
            oracle.forward(expected, src);
            oracle.backward(expectedDiff, diffDst, expected);
            Tensor dst = deviceZeros(scope, device, Shape.of(n)), diffSrc = deviceZeros(scope, device, Shape.of(n));
            plan.forward(dst, toDevice(scope, device, src));
            assertClose(kind + " forward", expected, dst, 1e-6, 1e-5);
            plan.backward(diffSrc, toDevice(scope, device, diffDst), toDevice(scope, device, expected));
            assertClose(kind + " backward", expectedDiff, diffSrc, 1e-6, 1e-5);
            Tensor inPlace = toDevice(scope, device, src);
            plan.forward(inPlace, inPlace);
            assertClose(kind + " forward in place", expected, inPlace, 1e-6, 1e-5);
        }
    }

    static List<LinearSpec> linears() {
        return List.of(new LinearSpec(1, 1, 1, true), new LinearSpec(3, 17, 15, true), new LinearSpec(7, 33, 1023, false),
                new LinearSpec(17, 1023, 7, true), new LinearSpec(33, 15, 33, true));
    }

    /** Parameters live in one slab sliced into views at odd element offsets, as nn lays them out. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("linears")
    void linearMatchesReference(LinearSpec spec) {
        try (TensorScope scope = new TensorScope(); LinearPlan plan = device.linear(spec); LinearPlan oracle = reference.linear(spec)) {
            Tensor src = scope.uniform(1, -1, 1, spec.srcShape());
            Tensor weights = scope.uniform(2, -1, 1, spec.weightsShape());
            Tensor bias = spec.hasBias() ? scope.uniform(3, -1, 1, spec.biasShape()) : null;
            Tensor diffDst = scope.uniform(4, -1, 1, spec.dstShape());
            long weightsElements = spec.weightsShape().elements();
            Tensor slab = deviceZeros(scope, device, Shape.of(Math.toIntExact(3 + 2 * weightsElements + 2 * spec.outFeatures())));
            Tensor dWeights = scope.add(slab.view(3, spec.weightsShape()));
            Tensor dDiffWeights = scope.add(slab.view(3 + weightsElements, spec.weightsShape()));
            Tensor dBias = bias == null ? null : scope.add(slab.view(3 + 2 * weightsElements, spec.biasShape()));
            Tensor dDiffBias = bias == null ? null : scope.add(slab.view(3 + 2 * weightsElements + spec.outFeatures(), spec.biasShape()));
            weights.copyTo(dWeights);
            if (bias != null) bias.copyTo(dBias);
            Tensor dSrc = toDevice(scope, device, src), dDiffDst = toDevice(scope, device, diffDst);

            Tensor expected = scope.zeros(spec.dstShape()), actual = deviceZeros(scope, device, spec.dstShape());
            oracle.forward(expected, src, weights, bias);
            plan.forward(actual, dSrc, dWeights, dBias);
            assertClose(spec + " forward", expected, actual, 1e-4, 1e-4);

            Tensor expectedDiffSrc = scope.zeros(spec.srcShape()), diffSrc = deviceZeros(scope, device, spec.srcShape());
            oracle.backwardData(expectedDiffSrc, diffDst, weights);
            plan.backwardData(diffSrc, dDiffDst, dWeights);
            assertClose(spec + " backward data", expectedDiffSrc, diffSrc, 1e-4, 1e-4);

            Tensor expectedDiffWeights = scope.zeros(spec.weightsShape());
            Tensor expectedDiffBias = bias == null ? null : scope.zeros(spec.biasShape());
            oracle.backwardWeights(expectedDiffWeights, expectedDiffBias, diffDst, src);
            plan.backwardWeights(dDiffWeights, dDiffBias, dDiffDst, dSrc);
            assertClose(spec + " backward weights", expectedDiffWeights, dDiffWeights, 1e-4, 1e-4);
            if (bias != null) assertClose(spec + " backward bias", expectedDiffBias, dDiffBias, 1e-4, 1e-4);
        }
    }

    static List<int[]> softmaxSizes() {
        return List.of(new int[] {1, 1}, new int[] {7, 10}, new int[] {17, 1023}, new int[] {33, 7}, new int[] {130, 15});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("softmaxSizes")
    void softmaxCrossEntropyMatchesReference(int[] size) {
        int n = size[0], k = size[1];
        try (TensorScope scope = new TensorScope();
             SoftmaxCrossEntropyPlan plan = device.softmaxCrossEntropy(n, k);
             SoftmaxCrossEntropyPlan oracle = reference.softmaxCrossEntropy(n, k)) {
            Tensor logits = scope.uniform(1, -5, 5, n, k);
            Tensor labels = scope.labels(2, n, k);
            Tensor expected = scope.zeros(n, k), expectedDiff = scope.zeros(n, k);
            float expectedLoss = oracle.forward(expected, logits, labels);
            oracle.backward(expectedDiff, expected, labels);
            Tensor probs = deviceZeros(scope, device, Shape.of(n, k)), diff = deviceZeros(scope, device, Shape.of(n, k));
            Tensor dLabels = toDevice(scope, device, labels);
            float loss = plan.forward(probs, toDevice(scope, device, logits), dLabels);
            assertEquals(expectedLoss, loss, 1e-5 + 1e-5 * Math.abs(expectedLoss), "mean loss");
            assertClose(n + "x" + k + " probs", expected, probs, 1e-6, 1e-5);
            plan.backward(diff, probs, dLabels);
            assertClose(n + "x" + k + " diffLogits", expectedDiff, diff, 1e-6, 1e-5);
        }
    }

    @Test void aLabelOutsideTheClassesThrows() {
        try (TensorScope scope = new TensorScope(); SoftmaxCrossEntropyPlan plan = device.softmaxCrossEntropy(5, 3)) {
            Tensor logits = toDevice(scope, device, scope.uniform(1, -1, 1, 5, 3));
            Tensor probs = deviceZeros(scope, device, Shape.of(5, 3));
            for (int bad : new int[] {3, -1}) {
                Tensor labels = toDevice(scope, device, scope.ints(0, 2, 1, bad, 0));
                var e = assertThrows(IllegalArgumentException.class, () -> plan.forward(probs, logits, labels));
                assertTrue(e.getMessage().contains("row 3 is " + bad) && e.getMessage().contains("[0, 3)"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> plan.backward(probs, probs, labels));
                assertTrue(e.getMessage().contains("row 3 is " + bad), e.getMessage());
            }
        }
    }

    // ---- LRN

    static List<LrnSpec> lrns() {
        return List.of(new LrnSpec(1, 1, 1, 1, 5, 1e-4f * 5, 0.75f, 2f),          // AlexNet's constants
                new LrnSpec(3, 7, 5, 3, 5, 0.5f, 0.75f, 2f),
                new LrnSpec(2, 17, 4, 4, 3, 0.3f, 0.6f, 1f),
                new LrnSpec(1, 16, 3, 3, 4, 1f, 0.75f, 1.5f));                      // even size: window [c-1, c+2]
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lrns")
    void lrnMatchesItsDefinitionAndFiniteDifferences(LrnSpec spec) {
        try (TensorScope scope = new TensorScope(); LrnPlan plan = device.lrn(spec)) {
            assertEquals(0, plan.workspaceBytes());
            Tensor src = scope.uniform(1, -2, 2, spec.shape());
            Tensor dSrc = toDevice(scope, device, src), dst = deviceZeros(scope, device, spec.shape());
            plan.forwardTraining(dst, null, dSrc);
            assertClose(spec + " forward", lrnForward(spec, src.toFloatArray()), dst, 1e-6, 1e-5);
            Tensor inference = deviceZeros(scope, device, spec.shape());
            plan.forwardInference(inference, dSrc);
            assertClose(spec + " inference", dst.toFloatArray(), inference, 0, 0);

            float[] r = TestTensors.uniform(3, Math.toIntExact(spec.shape().elements()), -1, 1);
            Tensor diffSrc = deviceZeros(scope, device, spec.shape());
            plan.backward(diffSrc, toDevice(scope, device, scope.of(r, spec.shape())), dSrc, null);
            GradientCheck.check(spec + " diffSrc", dSrc, s -> {
                plan.forwardInference(dst, s);
                return GradientCheck.dot(dst, r);
            }, diffSrc.toFloatArray(), 1e-2, 1e-3, 1e-2);
        }
    }

    /** The scalar twin of lrn_forward, in double, straight from {@link LrnSpec}'s formula. */
    static float[] lrnForward(LrnSpec spec, float[] src) {
        int c = spec.channels(), hw = spec.height() * spec.width();
        float[] dst = new float[src.length];
        for (int n = 0; n < spec.batch(); n++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < hw; p++) {
                    double sum = 0;
                    for (int j = Math.max(0, ch - (spec.size() - 1) / 2); j <= Math.min(c - 1, ch + spec.size() / 2); j++) {
                        double v = src[(n * c + j) * hw + p];
                        sum += v * v;
                    }
                    int i = (n * c + ch) * hw + p;
                    dst[i] = (float) (src[i] / Math.pow(spec.k() + (double) spec.alpha() / spec.size() * sum, spec.beta()));
                }
        return dst;
    }

    // ---- dropout

    static List<Object[]> dropoutCases() {
        List<Object[]> all = new ArrayList<>();
        for (int n : TestTensors.AWKWARD_SIZES) all.add(new Object[] {n, 0.5f, 42L});
        all.add(new Object[] {4099, 0.3f, -7_654_321_987L});
        all.add(new Object[] {257, 0f, 1L});
        all.add(new Object[] {1023, 0.9f, Long.MIN_VALUE});
        return all;
    }

    /** The mask is the specification bit for bit; mask and tensors are views at odd offsets. */
    @ParameterizedTest(name = "n={0}, p={1}, seed={2}")
    @MethodSource("dropoutCases")
    void dropoutMaskIsTheSpecificationBitForBit(int n, float p, long seed) {
        try (TensorScope scope = new TensorScope(); DropoutPlan plan = device.dropout(n, p)) {
            Tensor src = scope.uniform(1, -1, 1, n);
            Tensor diffDst = scope.uniform(2, -1, 1, n);
            Tensor maskSlab = deviceBytes(scope, device, n + 3);
            Tensor mask = scope.add(maskSlab.view(3, Shape.of(n)));
            Tensor dst = deviceZeros(scope, device, Shape.of(n)), diffSrc = deviceZeros(scope, device, Shape.of(n));
            plan.forwardTraining(dst, mask, toDevice(scope, device, src), seed);
            plan.backward(diffSrc, toDevice(scope, device, diffDst), mask);

            byte[] expectedMask = new byte[n];
            float[] expectedDst = new float[n], expectedDiff = new float[n];
            float scale = (float) (1.0 / (1.0 - p));
            float[] s = src.toFloatArray(), dd = diffDst.toFloatArray();
            for (int i = 0; i < n; i++) {
                boolean keep = DropoutPlan.keep(seed, i, p);
                expectedMask[i] = (byte) (keep ? 1 : 0);
                expectedDst[i] = keep ? s[i] * scale : 0f;
                expectedDiff[i] = keep ? dd[i] * scale : 0f;
            }
            assertArrayEquals(expectedMask, bytes(mask), "mask");
            assertEquals(0, bytes(maskSlab)[0] | bytes(maskSlab)[1] | bytes(maskSlab)[2], "bytes before the view untouched");
            assertClose("dropout forward", expectedDst, dst, 0, 1e-6);
            assertClose("dropout backward", expectedDiff, diffSrc, 0, 1e-6);
        }
    }

    // ---- optimizers, axpy, fill

    static List<OptimizerSpec> optimizers() {
        return List.of(new OptimizerSpec.Sgd(0, 0, 0, false), new OptimizerSpec.Sgd(0.9f, 0.1f, 1e-2f, false),
                new OptimizerSpec.Sgd(0.9f, 0, 5e-4f, true), new OptimizerSpec.RmsProp(0.99f, 1e-8f, 0, 0),
                new OptimizerSpec.RmsProp(0.9f, 1e-6f, 1e-2f, 0.5f), new OptimizerSpec.Adam(0.9f, 0.999f, 1e-8f, 0, false),
                new OptimizerSpec.Adam(0.9f, 0.99f, 1e-6f, 1e-2f, false), new OptimizerSpec.Adam(0.8f, 0.999f, 1e-8f, 0.1f, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void optimizerMatchesReferenceOverThreeSteps(OptimizerSpec spec) {
        for (int n : new int[] {1, 17, 1023}) {
            try (TensorScope scope = new TensorScope(); OptimizerPlan plan = device.optimizer(spec, n);
                 OptimizerPlan oracle = reference.optimizer(spec, n)) {
                Tensor params = scope.uniform(1, -1, 1, n), state = scope.zeros(plan.stateShape());
                Tensor dParams = toDevice(scope, device, params), dState = toDevice(scope, device, state);
                for (int step = 1; step <= 3; step++) {
                    Tensor grads = scope.uniform(10 + step, -1, 1, n);
                    oracle.step(params, state, grads, 0.05f, step);
                    plan.step(dParams, dState, toDevice(scope, device, grads), 0.05f, step);
                }
                assertClose(spec + " n=" + n + " params", params, dParams, 1e-6, 1e-5);
                assertClose(spec + " n=" + n + " state", state, dState, 1e-6, 1e-5);
            }
        }
    }

    @Test void axpyAndFillMatchReferenceOnViews() {
        for (int n : TestTensors.AWKWARD_SIZES) {
            try (TensorScope scope = new TensorScope()) {
                Tensor x = scope.uniform(1, -1, 1, n), y = scope.uniform(2, -1, 1, n);
                Tensor slab = deviceZeros(scope, device, Shape.of(2 * n + 5));
                Tensor dx = scope.add(slab.view(1, Shape.of(n))), dy = scope.add(slab.view(n + 5, Shape.of(n)));
                x.copyTo(dx);
                y.copyTo(dy);
                reference.axpy(-0.75f, x, y);
                device.axpy(-0.75f, dx, dy);
                assertClose("axpy n=" + n, y, dy, 1e-6, 1e-6);
                assertClose("axpy leaves x", x, dx, 0, 0);
                device.fill(dx, 2.5f);
                float[] all = slab.toFloatArray();
                assertEquals(0f, all[0]);
                for (int i = 1; i <= n; i++) assertEquals(2.5f, all[i], "fill at " + i);
                assertEquals(0f, all[n + 1]);
            }
        }
    }
}

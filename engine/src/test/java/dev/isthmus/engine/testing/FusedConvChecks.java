package dev.isthmus.engine.testing;

import static dev.isthmus.engine.testing.DeviceTensors.deviceZeros;
import static dev.isthmus.engine.testing.DeviceTensors.toDevice;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Conv2dPlan;
import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;

/**
 * The checks of a convolution with a fused activation ({@link Conv2dSpec#activation}) that every
 * backend passes: forward equals the reference convolution followed by the scalar definition of
 * the activation; {@link Conv2dPlan#backwardActivation} equals diffDst f'(dst) (also in place);
 * the whole fused op's gradients match central differences; a plan without an activation refuses
 * backwardActivation.
 */
public final class FusedConvChecks {
    private FusedConvChecks() {}

    /** Small convolutions (plain, strided, grouped, whole-input kernel) with every activation kind. */
    public static List<Conv2dSpec> specs() {
        List<Conv2dSpec> base = List.of(
                new Conv2dSpec(3, 3, 15, 17, 7, Window.square(5, 2, 2), 1, true),
                new Conv2dSpec(2, 6, 9, 9, 16, Window.square(3, 1, 1), 2, false),           // groups 2, AlexNet-like
                new Conv2dSpec(3, 1, 12, 12, 6, Window.square(5, 1, 0), 1, true),           // LeNet C1-like
                new Conv2dSpec(3, 16, 5, 5, 12, Window.square(5, 1, 0), 1, true));          // LeNet C5-like: 1x1 output
        List<Conv2dSpec> all = new ArrayList<>();
        for (EltwiseKind kind : EltwiseKind.values()) for (Conv2dSpec s : base) all.add(s.withActivation(kind));
        return all;
    }

    /** Forward and backwardActivation of {@code backend} against the reference convolution and the scalar twins. */
    public static void matchesDefinition(Backend backend, Conv2dSpec spec) {
        try (TensorScope scope = new TensorScope(); ReferenceBackend reference = new ReferenceBackend();
             Conv2dPlan plan = backend.conv2d(spec); Conv2dPlan plain = reference.conv2d(spec.withActivation(null))) {
            EltwiseKind kind = spec.activation();
            Tensor src = scope.uniform(1, -1, 1, spec.srcShape());
            Tensor weights = scope.uniform(2, -1, 1, spec.weightsShape());
            Tensor bias = spec.hasBias() ? scope.uniform(3, -1, 1, spec.biasShape()) : null;
            Tensor pre = scope.zeros(spec.dstShape());
            plain.forward(pre, src, weights, bias);
            float[] x = pre.toFloatArray(), expected = new float[x.length];
            for (int i = 0; i < x.length; i++) expected[i] = kind.apply(x[i]);

            Tensor dst = deviceZeros(scope, backend, spec.dstShape());
            plan.forward(dst, toDevice(scope, backend, src), toDevice(scope, backend, weights),
                    bias == null ? null : toDevice(scope, backend, bias));
            double tol = 2e-6 * spec.flops() / spec.dstShape().elements() + 2e-5;
            assertClose(spec + " fused forward", expected, dst, tol, 1e-4);

            float[] r = TestTensors.uniform(4, x.length, -1, 1);
            float[] y = dst.toFloatArray(), expectedDiff = new float[x.length];
            for (int i = 0; i < x.length; i++) expectedDiff[i] = r[i] * kind.derivativeFromOutput(y[i]);
            Tensor diffDst = toDevice(scope, backend, scope.of(r, spec.dstShape()));
            Tensor diffPre = deviceZeros(scope, backend, spec.dstShape());
            plan.backwardActivation(diffPre, diffDst, dst);
            assertClose(spec + " backwardActivation", expectedDiff, diffPre, 1e-6, 1e-6);
            plan.backwardActivation(diffDst, diffDst, dst);   // in place
            assertClose(spec + " backwardActivation in place", expectedDiff, diffDst, 1e-6, 1e-6);
        }
    }

    /**
     * Gradients of sum(r * f(conv(src, weights) + bias)) through backwardActivation, backwardData and
     * backwardWeights against central differences of the fused forward. Inputs keep the
     * pre-activations away from ReLU's kink (|x| >= 0.05), so a step of 1e-2 never crosses it.
     */
    public static void gradientsMatchFiniteDifferences(Backend backend, EltwiseKind kind) {
        Conv2dSpec spec = new Conv2dSpec(2, 3, 7, 6, 4, new Window(3, 3, 2, 1, 1, 1, 1, 0, 0, 0), 1, true).withActivation(kind);
        try (TensorScope scope = new TensorScope(); Conv2dPlan plan = backend.conv2d(spec)) {
            Tensor src = toDevice(scope, backend, scope.uniform(11, -1, 1, spec.srcShape()));
            Tensor weights = toDevice(scope, backend, scope.uniform(12, -1, 1, spec.weightsShape()));
            Tensor bias = toDevice(scope, backend, awayFromKink(scope, backend, plan, src, weights));
            Tensor dst = deviceZeros(scope, backend, spec.dstShape());
            float[] r = TestTensors.uniform(14, Math.toIntExact(spec.dstShape().elements()), -1, 1);
            Tensor diffDst = toDevice(scope, backend, scope.of(r, spec.dstShape()));
            Tensor diffPre = deviceZeros(scope, backend, spec.dstShape());
            Tensor diffSrc = deviceZeros(scope, backend, spec.srcShape());
            Tensor diffWeights = deviceZeros(scope, backend, spec.weightsShape());
            Tensor diffBias = deviceZeros(scope, backend, spec.biasShape());
            plan.forward(dst, src, weights, bias);
            plan.backwardActivation(diffPre, diffDst, dst);
            plan.backwardData(diffSrc, diffPre, weights);
            plan.backwardWeights(diffWeights, diffBias, diffPre, src);
            String what = backend.kind().cliName() + " conv+" + kind;
            GradientCheck.check(what + " diffSrc", src, s -> {
                plan.forward(dst, s, weights, bias);
                return GradientCheck.dot(dst, r);
            }, diffSrc.toFloatArray(), 1e-2, 3e-3, 3e-3);
            GradientCheck.check(what + " diffWeights", weights, w -> {
                plan.forward(dst, src, w, bias);
                return GradientCheck.dot(dst, r);
            }, diffWeights.toFloatArray(), 1e-2, 3e-3, 3e-3);
            GradientCheck.check(what + " diffBias", bias, b -> {
                plan.forward(dst, src, weights, b);
                return GradientCheck.dot(dst, r);
            }, diffBias.toFloatArray(), 1e-2, 3e-3, 3e-3);
        }
    }

    /**
     * A bias per channel chosen so that no pre-activation lies within 0.05 of zero: a step of 1e-2 in one
     * input, weight (|w| <= 1) or bias moves a pre-activation by at most 1e-2.
     */
    private static Tensor awayFromKink(TensorScope scope, Backend backend, Conv2dPlan plan, Tensor src, Tensor weights) {
        Conv2dSpec spec = plan.spec();
        float[] bias = new float[spec.outChannels()];
        try (ReferenceBackend reference = new ReferenceBackend();
             Conv2dPlan plain = reference.conv2d(spec.withActivation(null))) {
            Tensor hostSrc = scope.of(src.toFloatArray(), spec.srcShape()), hostWeights = scope.of(weights.toFloatArray(), spec.weightsShape());
            Tensor biasTensor = scope.zeros(spec.biasShape());
            Tensor pre = scope.zeros(spec.dstShape());
            plain.forward(pre, hostSrc, hostWeights, biasTensor);
            float[] x = pre.toFloatArray();
            int perChannel = spec.outHeight() * spec.outWidth();
            for (int o = 0; o < bias.length; o++) {
                float b = 0f;
                for (int attempt = 0; attempt < 200 && tooClose(x, spec, o, perChannel, b); attempt++) b += 0.0137f;
                assertTrue(!tooClose(x, spec, o, perChannel, b), "no bias keeps channel " + o + " off the kink");
                bias[o] = b;
            }
        }
        return scope.of(bias, spec.biasShape());
    }

    private static boolean tooClose(float[] x, Conv2dSpec spec, int channel, int perChannel, float bias) {
        for (int n = 0; n < spec.batch(); n++) {
            for (int i = 0; i < perChannel; i++) {
                if (Math.abs(x[(n * spec.outChannels() + channel) * perChannel + i] + bias) < 0.05f) return true;
            }
        }
        return false;
    }

    /** Without an activation, backwardActivation is an error that says what to do instead. */
    public static void refusesBackwardActivationWithoutOne(Backend backend) {
        Conv2dSpec spec = new Conv2dSpec(1, 2, 5, 5, 3, Window.square(3, 1, 0), 1, true);
        try (TensorScope scope = new TensorScope(); Conv2dPlan plan = backend.conv2d(spec)) {
            Tensor t = deviceZeros(scope, backend, spec.dstShape());
            var e = assertThrows(IllegalStateException.class, () -> plan.backwardActivation(t, t, t));
            assertTrue(e.getMessage().contains("no fused activation"), e.getMessage());
        }
    }
}

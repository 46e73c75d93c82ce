package dev.isthmus.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.dnnl.DnnlConv2dPlan;
import dev.isthmus.engine.testing.FusedConvChecks;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Convolution with a fused activation on the host backends (reference, dnnl with its eltwise
 * post-ops, simd with its per-block epilogue): {@link FusedConvChecks}, which the device
 * backends run through {@code DeviceOpsContract}. Plus what only oneDNN has: the post-op
 * keeps the unfused primitive's implementation and reorders.
 */
class FusedConvTest {
    private static final List<BackendKind> HOST = List.of(BackendKind.REFERENCE, BackendKind.DNNL, BackendKind.SIMD);
    private static final Map<BackendKind, Backend> backends = new EnumMap<>(BackendKind.class);

    @BeforeAll static void open() {
        for (BackendKind k : HOST) backends.put(k, Backends.create(k));
    }

    @AfterAll static void close() {
        backends.values().forEach(Backend::close);
    }

    static List<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (BackendKind k : HOST) for (Conv2dSpec s : FusedConvChecks.specs()) all.add(Arguments.of(k, s));
        return all;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesConvolutionThenActivation(BackendKind kind, Conv2dSpec spec) {
        FusedConvChecks.matchesDefinition(backends.get(kind), spec);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(EltwiseKind.class)
    void gradientsMatchFiniteDifferences(EltwiseKind activation) {
        for (BackendKind k : HOST) FusedConvChecks.gradientsMatchFiniteDifferences(backends.get(k), activation);
    }

    @Test void backwardActivationWithoutAnActivationIsAnError() {
        for (BackendKind k : HOST) FusedConvChecks.refusesBackwardActivationWithoutOne(backends.get(k));
    }

    /** AlexNet's conv1 to conv5 at batch 2 and LeNet's C1: the post-op changes neither the kernel nor the reorders. */
    @Test void dnnlPostOpKeepsTheImplementationAndTheReorders() {
        DnnlBackend dnnl = (DnnlBackend) backends.get(BackendKind.DNNL);
        List<Conv2dSpec> layers = List.of(
                new Conv2dSpec(2, 3, 227, 227, 96, Window.square(11, 4, 0), 1, true),
                new Conv2dSpec(2, 96, 27, 27, 256, Window.square(5, 1, 2), 2, true),
                new Conv2dSpec(2, 256, 13, 13, 384, Window.square(3, 1, 1), 1, true),
                new Conv2dSpec(2, 384, 13, 13, 384, Window.square(3, 1, 1), 2, true),
                new Conv2dSpec(2, 1, 32, 32, 6, Window.square(5, 1, 0), 1, true));
        for (Conv2dSpec spec : layers) {
            try (DnnlConv2dPlan plain = dnnl.conv2d(spec); DnnlConv2dPlan fused = dnnl.conv2d(spec.withActivation(EltwiseKind.RELU))) {
                String[] a = plain.layouts().split("\n"), b = fused.layouts().split("\n");
                assertEquals(a[0] + " post-op relu", b[0], spec + ": forward");
                assertEquals(a[1], b[1], spec + ": backward-data");
                assertEquals(a[2], b[2], spec + ": backward-weights");
                assertEquals(plain.reordersPerStep(), fused.reordersPerStep(), spec + ": reorders per step");
            }
        }
    }

    @Test void specSaysWhatItFuses() {
        Conv2dSpec spec = new Conv2dSpec(1, 3, 8, 8, 4, Window.square(3, 1, 1), 1, true);
        assertTrue(!spec.hasActivation());
        Conv2dSpec fused = spec.withActivation(EltwiseKind.RELU);
        assertEquals(EltwiseKind.RELU, fused.activation());
        assertTrue(fused.toString().endsWith("+relu)"), fused.toString());
        assertEquals(spec, fused.withActivation(null));
        assertEquals(spec.flops(), fused.flops());
    }
}

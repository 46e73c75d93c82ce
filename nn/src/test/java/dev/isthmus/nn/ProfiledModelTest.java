package dev.isthmus.nn;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.profile.OpProfile;
import dev.isthmus.engine.profile.ProfilingBackend;
import dev.isthmus.engine.simd.SimdBackend;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.api.Test;

/**
 * A model compiled on a {@link ProfilingBackend} labels every plan with its layer (the fused pairs
 * as "c1+c1_act"), runs the passes a step needs in the order it needs them (C1's backward-data not
 * at all), and trains to the same bits as on the plain backend.
 */
class ProfiledModelTest {
    private static final int BATCH = 4, STEPS = 3;

    @Test void lenetStepRowsNameEveryLayerAndPassInOrder() {
        List<String> seen = new ArrayList<>();
        float[] profiled;
        try (ProfilingBackend backend = new ProfilingBackend(new SimdBackend(2))) {
            profiled = train(backend);
            for (OpProfile.Row r : backend.profile().rows()) {
                assertEquals(STEPS, r.calls(), "every pass runs once per step: " + r);
                seen.add((r.layer.isEmpty() ? "-" : r.layer) + " " + r.pass);
            }
        }
        assertEquals(List.of(
                "c1+c1_act forward", "s2 forward", "c3+c3_act forward", "s4 forward", "c5+c5_act forward",
                "f6 forward", "f6_act forward", "output forward", "loss forward", "- forward",   // zeroGrad's fill
                "loss backward", "output backward_weights", "output backward_data", "f6_act backward",
                "f6 backward_weights", "f6 backward_data", "c5+c5_act backward_activation", "c5+c5_act backward_weights",
                "c5+c5_act backward_data", "s4 backward", "c3+c3_act backward_activation", "c3+c3_act backward_weights",
                "c3+c3_act backward_data", "s2 backward", "c1+c1_act backward_activation", "c1+c1_act backward_weights",
                "- step"), seen);
        try (Backend plain = new SimdBackend(2)) {
            assertBitwise("parameters after " + STEPS + " steps, profiled vs plain", train(plain), profiled);
        }
    }

    private static float[] train(Backend backend) {
        try (Sequential model = LeNet5.classic().compile(backend, BATCH, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 5);
             var sgd = new SGD(model.parameters(), 0.05f, 0.9f, 0f, false);
             var loss = new CrossEntropyLoss().compile(backend.forLayer("loss"), BATCH, 10);
             Tensor x = backend.allocate(Shape.of(BATCH, 1, 32, 32), DType.F32);
             Tensor labels = backend.allocate(Shape.of(BATCH), DType.S32)) {
            x.copyFrom(TestTensors.uniform(7, BATCH * 32 * 32, -1f, 1f));
            labels.copyFrom(new int[] {3, 1, 4, 1});
            for (int step = 0; step < STEPS; step++) {
                loss.forward(model.forward(x), labels);
                sgd.zeroGrad();
                model.backward(loss.backward());
                sgd.step();
            }
            return model.parameters().values().toFloatArray();
        }
    }
}

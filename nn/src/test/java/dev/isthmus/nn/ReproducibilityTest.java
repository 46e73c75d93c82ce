package dev.isthmus.nn;

import static dev.isthmus.engine.testing.TensorAssert.assertBitwise;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The same seeded training, run twice in one JVM, ends with the same parameters bit for bit. The
 * first run executes partly interpreted and the second compiled, so this fails if any kernel's
 * result depends on the JIT (it did while tanh, exp and lane sums came from the Vector API's
 * lanewise TANH/EXP and reduceLanes: runs of `./isthmus lenet` differed from the first epoch).
 */
class ReproducibilityTest {
    private static final int BATCH = 16, STEPS = 40;

    @ParameterizedTest
    @EnumSource(value = BackendKind.class, names = {"DNNL", "SIMD"})
    void sameSeedSameParameters(BackendKind kind) {
        float[] first = train(kind), second = train(kind);
        assertBitwise(kind.cliName() + ": parameters after " + STEPS + " steps, run 1 vs run 2", first, second);
    }

    /** LeNet-5 classic (scaled tanh), softmax cross-entropy, SGD with momentum and weight decay. */
    private static float[] train(BackendKind kind) {
        try (Backend backend = Backends.create(kind);
             Sequential model = LeNet5.classic().compile(backend, BATCH, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 3);
             var sgd = new SGD(model.parameters(), 0.05f, 0.9f, 5e-4f, false);
             var loss = new CrossEntropyLoss().compile(backend, BATCH, 10);
             Tensor x = backend.allocate(Shape.of(BATCH, 1, 32, 32), DType.F32);
             Tensor labels = backend.allocate(Shape.of(BATCH), DType.S32)) {
            for (int step = 0; step < STEPS; step++) {
                x.copyFrom(TestTensors.uniform(200 + step, BATCH * 32 * 32, -0.1f, 1.175f));
                int[] l = new int[BATCH];
                for (int i = 0; i < BATCH; i++) l[i] = (i * 3 + step) % 10;
                labels.copyFrom(l);
                loss.forward(model.forward(x), labels);
                sgd.zeroGrad();
                model.backward(loss.backward());
                sgd.step();
            }
            return model.parameters().values().toFloatArray();
        }
    }
}

package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.dnnl.DnnlBackend;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An inference compile holds only what a forward uses: no gradients, workspaces or backward
 * buffers, activations only for layers that compute something, and plans without backward
 * primitives (so their per-context bytes are a fraction of a training compile's).
 */
class InferenceMemoryTest {

    @Test
    void leNetInferenceContextHoldsActivationsAndForwardPlansOnly() {
        int batch = 4;
        try (Backend backend = new DnnlBackend();
             Sequential inference = LeNet5.classic().compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 1);
             Sequential training = LeNet5.classic().compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 1)) {
            MemoryReport m = inference.memory(), t = training.memory();
            assertEquals(0, m.gradientBytes(), "gradients");
            assertEquals(0, m.workspaceBytes(), "workspaces");
            assertEquals(0, m.backwardBytes(), "backward buffers");
            assertEquals(activationBytes(inference), m.activationBytes(), "activations: one output per computing layer");
            assertEquals(m.activationBytes() + m.planContextBytes(), m.contextBytes());
            assertEquals(4L * 61_706, m.parameterBytes(), "LeNet-5's 61,706 parameters");
            // the training compile of the same model: the parts an inference one must not have
            assertEquals(m.parameterBytes() + 4L * (5 * 5 * 16 * 120 + 120), t.gradientBytes(), "gradients and the largest layer's (c5) scratch");
            assertTrue(t.backwardBytes() > 0);
            assertTrue(m.planContextBytes() < t.planContextBytes(), m.planContextBytes() + " vs " + t.planContextBytes());
        }
    }

    @Test
    void alexNetInferenceHoldsNoTrainingBuffers() {
        try (Backend backend = new DnnlBackend();
             Sequential model = AlexNet.paper(1000).compile(backend, 2, Shape.of(3, 227, 227), Sequential.Mode.INFERENCE, 1)) {
            MemoryReport m = model.memory();
            assertEquals(0, m.trainingOnlyBytes(), "gradients, workspaces (max pooling's too) and backward buffers");
            assertEquals(activationBytes(model), m.activationBytes());
            assertTrue(m.totalBytes() <= 1.3 * m.inferenceFloorBytes(), m.toString());
        }
    }

    /** The (N, output) F32 buffers of the layers that write one: not fused activations, inference dropout or flatten. */
    static long activationBytes(Sequential model) {
        long bytes = 0;
        var layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            boolean fused = l instanceof Activation && i > 0 && layers.get(i - 1) instanceof Conv2d;
            if (fused || l instanceof Dropout || l instanceof Flatten) continue;
            bytes += 4L * model.batch() * model.outputShapes().get(i).elements();
        }
        return bytes;
    }
}

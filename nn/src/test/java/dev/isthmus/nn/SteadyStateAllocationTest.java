package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A compiled model allocates nothing on the Java heap per training step or per inference
 * once warm: plans, buffers and argument arrays are made at compile time.
 */
class SteadyStateAllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void leNetTrainingStepAllocatesNothing() {
        int batch = 16;
        try (Backend backend = new DnnlBackend();
             Sequential model = LeNet5.classic().compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 1);
             var sgd = new SGD(model.parameters(), 0.01f, 0.9f, 5e-4f, false);
             var loss = new CrossEntropyLoss().compile(backend, batch, 10);
             Tensor x = TestTensors.uniform(3, -0.1f, 1.175f, batch, 1, 32, 32);
             Tensor labels = TestTensors.labels(4, batch, 10)) {
            Runnable step = () -> {
                loss.forward(model.forward(x), labels);
                sgd.zeroGrad();
                model.backward(loss.backward());
                sgd.step();
            };
            assertEquals(0, bytesPerCall(step), "heap bytes per LeNet-5 training step");
        }
    }

    @Test
    void leNetBatchOneInferenceAllocatesNothing() {
        try (Backend backend = new DnnlBackend();
             Sequential model = LeNet5.classic().compile(backend, 1, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 1);
             Tensor x = TestTensors.uniform(3, -0.1f, 1.175f, 1, 1, 32, 32)) {
            assertEquals(0, bytesPerCall(() -> model.forward(x)), "heap bytes per batch-1 inference");
        }
    }

    /** Warms {@code r} up until the JIT has compiled it, then measures this thread's allocation over many calls. */
    private static long bytesPerCall(Runnable r) {
        for (int i = 0; i < 3000; i++) r.run();
        long best = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 5 && best > 0; attempt++) {   // a late JIT recompilation may allocate once
            long before = THREADS.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 500; i++) r.run();
            best = Math.min(best, (THREADS.getCurrentThreadAllocatedBytes() - before) / 500);
        }
        return best;
    }
}

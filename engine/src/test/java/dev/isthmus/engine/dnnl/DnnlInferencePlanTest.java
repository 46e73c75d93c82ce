package dev.isthmus.engine.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.LinearSpec;
import dev.isthmus.engine.LrnSpec;
import dev.isthmus.engine.PlanHints;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Plans created for inference hold oneDNN's inference recipe only: one {@code forward_inference}
 * primitive, no backward primitive, no workspace, and per execution context only the forward's
 * scratchpad and reorder buffers; they compute what the training plans' forwards compute.
 */
class DnnlInferencePlanTest {
    static DnnlBackend backend;

    @BeforeAll static void open() { backend = new DnnlBackend(); }

    @AfterAll static void close() { backend.close(); }

    @Test
    void convolutionHasTheForwardOnlyAndComputesTheSame() {
        Conv2dSpec s = new Conv2dSpec(2, 6, 14, 14, 16, Window.square(5, 1, 0), 1, true, EltwiseKind.RELU);   // LeNet C3
        Random r = new Random(3);
        try (DnnlConv2dPlan training = backend.conv2d(s);
             DnnlConv2dPlan inference = backend.conv2d(s, PlanHints.INFERENCE);
             Tensor src = Naive.tensor(r, s.srcShape().dims());
             Tensor w = Naive.tensor(r, s.weightsShape().dims());
             Tensor b = Naive.tensor(r, s.outChannels());
             Tensor expected = Tensor.allocate(s.dstShape(), DType.F32);
             Tensor dst = Tensor.allocate(s.dstShape(), DType.F32)) {
            assertEquals(List.of("forward", "backward-data", "backward-weights"), training.callNames());
            assertEquals(List.of("forward"), inference.callNames());
            training.forward(expected, src, w, b);
            inference.forward(dst, src, w, b);
            Naive.assertClose("inference vs training forward", expected.toFloatArray(), dst.toFloatArray(), 1e-6);
            assertThrows(IllegalStateException.class, () -> inference.backwardData(src, dst, w));
            assertThrows(IllegalStateException.class, () -> inference.backwardWeights(w, b, dst, src));
            assertThrows(IllegalStateException.class, () -> inference.backwardActivation(dst, dst, dst));
            assertForwardOnlyBytes(inference, training);
        }
    }

    @Test
    void maxPoolingHasNoWorkspaceAndNoBackward() {
        Pool2dSpec s = new Pool2dSpec(2, 7, 13, 13, Window.square(3, 2, 0), Pool2dSpec.Kind.MAX);   // AlexNet's overlapping pooling
        Random r = new Random(5);
        try (DnnlPool2dPlan training = backend.pool2d(s);
             DnnlPool2dPlan inference = backend.pool2d(s, PlanHints.INFERENCE);
             Tensor src = Naive.tensor(r, s.srcShape().dims());
             Tensor dst = Tensor.allocate(s.dstShape(), DType.F32)) {
            assertTrue(training.workspaceBytes() > 0);
            assertEquals(0, inference.workspaceBytes(), "an inference max pooling keeps no workspace");
            assertEquals(List.of("forward-inference"), inference.callNames());
            inference.forwardInference(dst, src);
            Naive.assertClose("max pooling", Naive.poolForward(s, src.toFloatArray()), dst.toFloatArray(), 0);
            assertThrows(IllegalStateException.class, () -> inference.forwardTraining(dst, null, src));
            assertThrows(IllegalStateException.class, () -> inference.backward(src, dst, null));
            assertForwardOnlyBytes(inference, training);
        }
    }

    @Test
    void linearAndLrnHaveTheForwardOnly() {
        LinearSpec ls = new LinearSpec(3, 120, 84, true);
        LrnSpec lrn = new LrnSpec(2, 96, 27, 27, 5, 5e-4f, 0.75f, 2f);   // AlexNet norm1's shape at batch 2
        Random r = new Random(7);
        try (DnnlLinearPlan training = backend.linear(ls);
             DnnlLinearPlan inference = backend.linear(ls, PlanHints.INFERENCE);
             DnnlLrnPlan lrnTraining = (DnnlLrnPlan) backend.lrn(lrn);
             DnnlLrnPlan lrnInference = (DnnlLrnPlan) backend.lrn(lrn, PlanHints.INFERENCE);
             Tensor src = Naive.tensor(r, 3, 120);
             Tensor w = Naive.tensor(r, 84, 120);
             Tensor b = Naive.tensor(r, 84);
             Tensor dst = Tensor.allocate(Shape.of(3, 84), DType.F32);
             Tensor image = Naive.tensor(r, lrn.shape().dims());
             Tensor expected = Tensor.allocate(lrn.shape(), DType.F32);
             Tensor normalised = Tensor.allocate(lrn.shape(), DType.F32)) {
            assertEquals(List.of("forward"), inference.callNames());
            inference.forward(dst, src, w, b);
            Naive.assertClose("linear", Naive.linearForward(ls, src.toFloatArray(), w.toFloatArray(), b.toFloatArray()),
                    dst.toFloatArray(), 1e-5);
            assertThrows(IllegalStateException.class, () -> inference.backwardData(src, dst, w));
            assertForwardOnlyBytes(inference, training);

            assertEquals(List.of("forward-inference"), lrnInference.callNames());
            assertEquals(0, lrnInference.workspaceBytes());
            lrnTraining.forwardInference(expected, image);
            lrnInference.forwardInference(normalised, image);
            Naive.assertClose("lrn", expected.toFloatArray(), normalised.toFloatArray(), 0);
            assertThrows(IllegalStateException.class, () -> lrnInference.forwardTraining(normalised, null, image));
            assertForwardOnlyBytes(lrnInference, lrnTraining);
        }
    }

    /** One call, so its context is that call's scratchpad and reorder buffers, and no more than the training plan's. */
    private static void assertForwardOnlyBytes(DnnlOpPlan inference, DnnlOpPlan training) {
        DnnlCall forward = inference.calls().getFirst();
        assertEquals(Math.max(1, forward.scratchpadBytes()) + forward.bufferBytes(), inference.contextBytes(),
                inference + ": context bytes");
        assertTrue(inference.contextBytes() <= training.contextBytes(),
                inference + ": " + inference.contextBytes() + " bytes per context, the training plan " + training.contextBytes());
    }
}

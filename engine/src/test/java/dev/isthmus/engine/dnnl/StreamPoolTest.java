package dev.isthmus.engine.dnnl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.Conv2dSpec;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.testing.TestTensors;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * oneDNN streams are leased per execution, not bound to threads: short-lived callers leave none
 * behind. Before {@link StreamPool}, each of these 2,000 virtual threads kept its own stream until
 * the backend closed (the issue measured 2,000 streams).
 */
class StreamPoolTest {
    @Test
    void shortLivedVirtualThreadsLeaveNoStreams() throws Exception {
        Conv2dSpec spec = new Conv2dSpec(1, 3, 9, 9, 4, Window.square(3, 1, 1), 1, true);
        try (DnnlBackend backend = new DnnlBackend();
             DnnlConv2dPlan plan = backend.conv2d(spec);
             Tensor src = TestTensors.uniform(1, -1f, 1f, spec.srcShape().dims());
             Tensor w = TestTensors.uniform(2, -1f, 1f, spec.weightsShape().dims());
             Tensor b = TestTensors.uniform(3, -1f, 1f, spec.outChannels());
             Tensor expected = Tensor.allocate(spec.dstShape(), DType.F32)) {
            plan.forward(expected, src, w, b);
            float[] want = expected.toFloatArray();
            AtomicInteger wrong = new AtomicInteger();
            Runnable round = () -> {
                try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                    for (int i = 0; i < 2_000; i++) {
                        threads.submit(() -> {
                            try (Tensor dst = Tensor.allocate(spec.dstShape(), DType.F32)) {
                                plan.forward(dst, src, w, b);
                                if (!java.util.Arrays.equals(want, dst.toFloatArray())) wrong.incrementAndGet();
                            }
                        });
                    }
                }
            };
            round.run();
            int streams = backend.streamCount();
            int bound = Runtime.getRuntime().availableProcessors() + 2;   // at most one per execution running at once
            assertTrue(streams >= 1 && streams <= bound, "streams after 2,000 virtual threads: " + streams + ", expected 1.." + bound);
            round.run();
            assertEquals(streams, backend.streamCount(), "another 2,000 callers made new streams");
            assertEquals(0, wrong.get(), "wrong results");
            assertArrayEquals(want, expected.toFloatArray());
        }
    }
}

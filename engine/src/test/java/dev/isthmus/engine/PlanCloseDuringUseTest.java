package dev.isthmus.engine;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.engine.testing.TestTensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Closing a plan while other threads execute it: the close waits for them or their calls fail
 * with {@link IllegalStateException}; never a native crash (dnnl re-pointed and freed memory
 * under running primitives before its plans had a {@link Lifetime}). Races per backend:
 * {@code -Disthmus.races=N} (default 12).
 */
class PlanCloseDuringUseTest {
    private static final int RACES = Integer.getInteger("isthmus.races", 12);

    @ParameterizedTest
    @EnumSource(value = BackendKind.class, names = {"DNNL", "SIMD", "REFERENCE", "OPENCL"})
    void closingAConvolutionPlanDuringForwardAndBackwardNeverCrashes(BackendKind kind) throws InterruptedException {
        if (kind == BackendKind.OPENCL) {
            assumeTrue(NativeLibraries.openClProblem().isEmpty(), () -> "no OpenCL: " + NativeLibraries.openClProblem().orElse(""));
            assumeTrue(openClHasADevice(), "no OpenCL platform with a device (pocl-opencl-icd installs one)");
        }
        Conv2dSpec spec = new Conv2dSpec(4, 3, 17, 17, 8, Window.square(3, 1, 1), 1, true);
        SplittableRandom random = new SplittableRandom(14);
        try (Backend backend = Backends.create(kind);
             Tensor src = backend.allocate(spec.srcShape(), DType.F32);
             Tensor weights = backend.allocate(spec.weightsShape(), DType.F32);
             Tensor bias = backend.allocate(spec.biasShape(), DType.F32);
             Tensor diffWeights = backend.allocate(spec.weightsShape(), DType.F32);
             Tensor diffBias = backend.allocate(spec.biasShape(), DType.F32)) {
            src.copyFrom(TestTensors.uniform(1, (int) spec.srcShape().elements(), -1f, 1f));
            weights.copyFrom(TestTensors.uniform(2, (int) spec.weightsShape().elements(), -1f, 1f));
            for (int race = 0; race < RACES; race++) {
                Conv2dPlan plan = backend.conv2d(spec);
                ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
                AtomicBoolean closed = new AtomicBoolean();
                List<Thread> threads = new ArrayList<>();
                List<Tensor> buffers = new ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    Tensor dst = backend.allocate(spec.dstShape(), DType.F32), diffSrc = backend.allocate(spec.srcShape(), DType.F32);
                    buffers.add(dst);
                    buffers.add(diffSrc);
                    threads.add(Thread.ofPlatform().start(() -> {
                        try {
                            while (true) {
                                plan.forward(dst, src, weights, bias);
                                plan.backwardData(diffSrc, dst, weights);
                                if (closed.get() && kind == BackendKind.REFERENCE) return;   // its close frees nothing
                            }
                        } catch (IllegalStateException expected) {
                            // closed: the failure the guard promises
                        } catch (Throwable e) {
                            unexpected.add(e);
                        }
                    }));
                }
                Thread.sleep(0, random.nextInt(1, 999_999));
                plan.close();
                closed.set(true);
                for (Thread t : threads) {
                    t.join(60_000);
                    assertFalse(t.isAlive(), "a caller still runs 60 s after the plan closed");
                }
                for (Tensor t : buffers) t.close();
                assertTrue(unexpected.isEmpty(), () -> kind.cliName() + ": a caller threw " + unexpected.peek());
                // after close, every entry point refuses
                try {
                    plan.forward(buffers.getFirst(), src, weights, bias);
                } catch (IllegalStateException expected) {
                    // the plan (or, here, the closed dst tensor) is named
                }
            }
            System.out.println("plan close-during-use " + kind.cliName() + ": " + RACES + " races, no crash, no hang");
        }
    }

    private static boolean openClHasADevice() {
        try (Backend b = Backends.create(BackendKind.OPENCL)) {
            return b != null;
        } catch (IllegalStateException e) {
            return false;
        }
    }
}

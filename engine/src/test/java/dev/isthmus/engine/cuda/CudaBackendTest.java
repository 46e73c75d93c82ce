package dev.isthmus.engine.cuda;

import static dev.isthmus.engine.testing.DeviceTensors.deviceBytes;
import static dev.isthmus.engine.testing.DeviceTensors.deviceZeros;
import static dev.isthmus.engine.testing.DeviceTensors.toDevice;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Device;
import dev.isthmus.engine.EltwiseKind;
import dev.isthmus.engine.EltwisePlan;
import dev.isthmus.engine.Pool2dPlan;
import dev.isthmus.engine.Pool2dSpec;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.Window;
import dev.isthmus.engine.testing.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The backend's plumbing on a GPU: device choice, copies and views, closed objects, a PTX the JIT
 * rejects, and threads (each binds the context itself). Skipped with the reason without a GPU.
 */
class CudaBackendTest {
    /** An undeclared operand: the driver's JIT (ptxas) rejects it and names it in its log. */
    private static final String BROKEN_PTX = """
            .version 7.0
            .target sm_75
            .address_size 64

            .visible .entry broken(.param .u64 c)
            {
            	.reg .b64 %rd<2>;
            	ld.param.u64 %rd1, [c];
            	st.global.f32 [%rd1], not_declared_anywhere;
            	ret;
            }
            """;

    private static CudaBackend cuda;

    @BeforeAll static void open() { cuda = CudaTesting.backendOrNull(); }

    @BeforeEach void needsAGpu() { CudaTesting.assumeBackend(cuda); }

    @AfterAll static void close() {
        if (cuda != null) cuda.close();
    }

    @Test void describesItsDevice() {
        assertEquals(BackendKind.CUDA, cuda.kind());
        assertEquals(Device.Kind.CUDA, cuda.device().kind());
        String d = cuda.describe();
        assertTrue(d.contains("sm_") && d.contains("SMs") && d.contains("driver CUDA ") && d.contains("PTX for compute_75"), d);
    }

    @Test void backendsCreatesIt() {
        try (Backend b = Backends.create(BackendKind.CUDA)) {
            assertEquals(cuda.device(), b.device());
        }
    }

    @Test void aDeviceOrdinalThatNamesNoDeviceFailsClearly() {
        String old = System.getProperty(CudaBackend.DEVICE_PROPERTY);
        System.setProperty(CudaBackend.DEVICE_PROPERTY, "99");
        try {
            var e = assertThrows(IllegalStateException.class, CudaBackend::new);
            assertTrue(e.getMessage().contains("names no CUDA device") && e.getMessage().contains("[0] "), e.getMessage());
        } finally {
            if (old == null) System.clearProperty(CudaBackend.DEVICE_PROPERTY);
            else System.setProperty(CudaBackend.DEVICE_PROPERTY, old);
        }
    }

    @Test void aPoolingWorkspaceViewOffTheInt32GridIsRefused() {
        Pool2dSpec spec = new Pool2dSpec(1, 1, 4, 4, Window.square(2, 2, 0), Pool2dSpec.Kind.MAX);
        try (TensorScope scope = new TensorScope(); Pool2dPlan plan = cuda.pool2d(spec)) {
            Tensor slab = deviceBytes(scope, cuda, plan.workspaceBytes() + 2);
            Tensor workspace = scope.add(slab.view(2, Shape.of(Math.toIntExact(plan.workspaceBytes()))));
            var e = assertThrows(IllegalArgumentException.class, () -> plan.forwardTraining(deviceZeros(scope, cuda, spec.dstShape()),
                    workspace, deviceZeros(scope, cuda, spec.srcShape())));
            assertTrue(e.getMessage().contains("multiple of 4"), e.getMessage());
        }
    }

    @Test void aClosedPlanOrBackendThrows() {
        EltwisePlan plan = cuda.eltwise(EltwiseKind.SIGMOID, 3);
        plan.close();
        plan.close();   // idempotent
        try (TensorScope scope = new TensorScope()) {
            Tensor t = deviceZeros(scope, cuda, Shape.of(3));
            var e = assertThrows(IllegalStateException.class, () -> plan.forward(t, t));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        CudaBackend other = new CudaBackend();   // the same primary context, retained twice
        Tensor survivor = other.allocate(Shape.of(3), DType.F32);
        EltwisePlan orphan = other.eltwise(EltwiseKind.RELU, 3);
        other.close();
        other.close();   // idempotent
        assertThrows(IllegalStateException.class, () -> orphan.forward(survivor, survivor));
        assertThrows(IllegalStateException.class, survivor::toFloatArray);
        assertThrows(IllegalStateException.class, () -> other.allocate(Shape.of(1), DType.F32));
        survivor.close();   // the backend freed it already: nothing more happens
        try (TensorScope scope = new TensorScope()) {   // the first backend still works
            Tensor t = toDevice(scope, cuda, scope.of(new float[] {1, -2, 3}, 3));
            try (EltwisePlan relu = cuda.eltwise(EltwiseKind.RELU, 3)) {
                relu.forward(t, t);
            }
            assertArrayEquals(new float[] {1, 0, 3}, t.toFloatArray());
        }
    }

    @Test void aPtxTheJitRejectsReportsTheJitLog() {
        var e = assertThrows(CudaException.class, () -> cuda.loadModule("broken", BROKEN_PTX));
        assertEquals("cuModuleLoadDataEx", e.function());
        assertEquals("CUDA_ERROR_INVALID_PTX", e.statusName());
        assertTrue(e.getMessage().contains("not_declared_anywhere") && e.getMessage().contains("broken"), e.getMessage());
    }

    /** Plans run from several threads at once: each thread binds the context, launches serialize on the lock. */
    @Test void plansRunFromSeveralThreads() throws Exception {
        int n = 1023, threads = 4, rounds = 25;
        try (TensorScope scope = new TensorScope(); EltwisePlan plan = cuda.eltwise(EltwiseKind.TANH, n)) {
            List<Tensor> srcs = new ArrayList<>(), dsts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                srcs.add(toDevice(scope, cuda, scope.uniform(t, -2, 2, n)));
                dsts.add(deviceZeros(scope, cuda, Shape.of(n)));
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<float[]>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    Tensor s = srcs.get(t), d = dsts.get(t);
                    results.add(pool.submit(() -> {
                        for (int r = 0; r < rounds; r++) plan.forward(d, s);
                        return d.toFloatArray();
                    }));
                }
                for (int t = 0; t < threads; t++) {
                    float[] src = srcs.get(t).toFloatArray(), expected = new float[n];
                    for (int i = 0; i < n; i++) expected[i] = EltwiseKind.TANH.apply(src[i]);
                    assertClose("thread " + t, expected, results.get(t).get(), 1e-6, 1e-5);
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}

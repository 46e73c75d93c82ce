package dev.isthmus.engine.opencl;

import static dev.isthmus.engine.testing.DeviceTensors.deviceZeros;
import static dev.isthmus.engine.testing.DeviceTensors.toDevice;
import static dev.isthmus.engine.testing.TensorAssert.assertClose;
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
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TensorScope;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The backend's plumbing: device choice, copies and views, closed objects, build errors, threads. */
class OpenClBackendTest {
    /** An undeclared identifier: every OpenCL C compiler rejects it and says so in the log. */
    private static final String BROKEN = """
            __kernel void broken(__global float *c) {
                c[get_global_id(0)] = not_declared_anywhere;
            }
            """;

    private static OpenClBackend cl;

    @BeforeAll static void open() { cl = OpenClTesting.backendOrSkip(); }

    @AfterAll static void close() {
        if (cl != null) cl.close();
    }

    @Test void describesItsDevice() {
        assertEquals(BackendKind.OPENCL, cl.kind());
        assertEquals(Device.Kind.OPENCL, cl.device().kind());
        String d = cl.describe();
        assertTrue(d.contains("platform ") && d.contains("OpenCL C") && d.contains("compute units"), d);
    }

    @Test void backendsCreatesIt() {
        try (Backend b = Backends.create(BackendKind.OPENCL)) {
            assertEquals(cl.device(), b.device());
        }
    }

    @Test void aDeviceIndexThatNamesNoDeviceFailsClearly() {
        String old = System.getProperty(OpenClBackend.DEVICE_PROPERTY);
        System.setProperty(OpenClBackend.DEVICE_PROPERTY, "99");
        try {
            var e = assertThrows(IllegalStateException.class, OpenClBackend::new);
            assertTrue(e.getMessage().contains("names no OpenCL device") && e.getMessage().contains("[0] "), e.getMessage());
        } finally {
            if (old == null) System.clearProperty(OpenClBackend.DEVICE_PROPERTY);
            else System.setProperty(OpenClBackend.DEVICE_PROPERTY, old);
        }
    }

    @Test void aClosedPlanOrBackendThrows() {
        EltwisePlan plan = cl.eltwise(EltwiseKind.SIGMOID, 3);
        plan.close();
        plan.close();   // idempotent
        try (TensorScope scope = new TensorScope()) {
            Tensor t = deviceZeros(scope, cl, Shape.of(3));
            var e = assertThrows(IllegalStateException.class, () -> plan.forward(t, t));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        OpenClBackend other = new OpenClBackend();
        Tensor survivor = other.allocate(Shape.of(3), DType.F32);
        EltwisePlan orphan = other.eltwise(EltwiseKind.RELU, 3);
        other.close();
        assertThrows(IllegalStateException.class, () -> orphan.forward(survivor, survivor));
        assertThrows(IllegalStateException.class, survivor::toFloatArray);
        assertThrows(IllegalStateException.class, () -> other.allocate(Shape.of(1), DType.F32));
        survivor.close();   // still releases its buffer
    }

    @Test void aKernelBuildFailureReportsTheCompilerLog() {
        var e = assertThrows(OpenClException.class, () -> cl.buildProgram("broken", BROKEN));
        assertEquals("clBuildProgram", e.function());
        assertEquals("CL_BUILD_PROGRAM_FAILURE", e.statusName());
        assertTrue(e.getMessage().contains("not_declared_anywhere") && e.getMessage().contains("CL_BUILD_PROGRAM_FAILURE"),
                e.getMessage());
    }

    @Test void statusNamesAreTheCNames() {
        assertEquals("CL_INVALID_VALUE", Cl.statusName(-30));
        assertEquals("CL_OUT_OF_RESOURCES", Cl.statusName(-5));
        assertEquals("CL_PLATFORM_NOT_FOUND_KHR", Cl.statusName(-1001));
        assertTrue(Cl.statusName(-999).contains("-999"));
        var e = new OpenClException("clCreateBuffer", -61, "0 bytes");
        assertEquals("clCreateBuffer returned CL_INVALID_BUFFER_SIZE: 0 bytes", e.getMessage());
    }

    /** Plans run from several threads at once: launches serialize on the queue's lock, results stay right. */
    @Test void plansRunFromSeveralThreads() throws Exception {
        int n = 1023, threads = 4, rounds = 25;
        try (TensorScope scope = new TensorScope(); EltwisePlan plan = cl.eltwise(EltwiseKind.TANH, n)) {
            List<Tensor> srcs = new ArrayList<>(), dsts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                srcs.add(toDevice(scope, cl, scope.uniform(t, -2, 2, n)));
                dsts.add(deviceZeros(scope, cl, Shape.of(n)));
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

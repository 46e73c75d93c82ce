package dev.isthmus.engine.opencl;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.testing.TensorScope;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Assumptions;

/** Shared by the OpenCL tests: the skip when no OpenCL runs here, and host <-> device copies. */
final class OpenClTesting {
    private OpenClTesting() {}

    /** A backend on the default device, or a JUnit skip saying why OpenCL cannot run here. */
    static OpenClBackend backendOrSkip() {
        Assumptions.assumeTrue(NativeLibraries.openClProblem().isEmpty(),
                () -> "no OpenCL library: " + NativeLibraries.openClProblem().orElseThrow());
        Assumptions.assumeFalse(Cl.devices().isEmpty(),
                "the OpenCL ICD loader finds no platform with a device: install a driver such as pocl-opencl-icd");
        OpenClBackend backend = new OpenClBackend();
        System.out.println(backend.describe());
        return backend;
    }

    /** A device copy of a host tensor, owned by the scope. */
    static Tensor toDevice(TensorScope scope, OpenClBackend backend, Tensor host) {
        Tensor d = scope.add(backend.allocate(host.shape(), host.dtype()));
        host.copyTo(d);
        return d;
    }

    static Tensor deviceZeros(TensorScope scope, OpenClBackend backend, Shape shape) {
        return scope.add(backend.allocate(shape, DType.F32));
    }

    static Tensor deviceBytes(TensorScope scope, OpenClBackend backend, long bytes) {
        return scope.add(backend.allocate(Shape.of(Math.toIntExact(bytes)), DType.U8));
    }

    /** The bytes of any tensor (U8 workspaces and masks), copied to the host. */
    static byte[] bytes(Tensor t) {
        try (Tensor host = Tensor.allocate(t.shape(), t.dtype())) {
            t.copyTo(host);
            return host.segment().toArray(ValueLayout.JAVA_BYTE);
        }
    }
}

package dev.isthmus.engine.opencl;

import dev.isthmus.bindings.NativeLibraries;
import org.junit.jupiter.api.Assumptions;

/** Shared by the OpenCL tests: the skip when no OpenCL runs here (copies: testing.DeviceTensors). */
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
}

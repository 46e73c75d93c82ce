package dev.isthmus.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What the cuda backend says where it cannot run: without the NVIDIA driver, creating it fails
 * with the loader's message (naming libcuda.so.1 and what to install), never a crash; without
 * PTX it says that none was built and that NVRTC is not available.
 */
class CudaWithoutGpuTest {

    @Test void withoutTheDriverCreationFailsNamingLibcuda() {
        Assumptions.assumeTrue(NativeLibraries.cudaProblem().isPresent(),
                () -> "libcuda.so.1 loads here (" + NativeLibraries.cuda().describe() + "): nothing is absent to test");
        var e = assertThrows(IllegalStateException.class, () -> Backends.create(BackendKind.CUDA));
        String message = e.getMessage();
        assertTrue(message.startsWith("the cuda backend cannot run here: Cannot load the CUDA driver API (libcuda.so.1)."), message);
        assertTrue(message.contains("NVIDIA driver, not by the CUDA toolkit") && message.contains("nvidia-smi"), message);
        assertEquals(message, CudaBackend.problem().orElseThrow(), "problem() says what the constructor throws");
        var again = assertThrows(IllegalStateException.class, CudaBackend::new);
        assertEquals(message, again.getMessage(), "the same message every time");
    }

    @Test void withoutPtxTheBackendSaysNoneWasBuiltAndNoNvrtc() {
        var e = assertThrows(IllegalStateException.class, () -> Ptx.load("/dev/isthmus/engine/cuda/not-built/"));
        String message = e.getMessage();
        assertTrue(message.startsWith("no PTX was built (nvcc absent at build time) and NVRTC is not available"), message);
        assertTrue(message.contains("kernels.properties") && message.contains("build-ptx.sh"), message);
    }

    @Test void aCudaExceptionNamesTheFunctionTheStatusAndWhatWasAsked() {
        var e = new CudaException("cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "1024 bytes");
        assertEquals("cuMemAlloc_v2 returned CUDA_ERROR_OUT_OF_MEMORY (2): 1024 bytes", e.getMessage());
        assertEquals("cuMemAlloc_v2", e.function());
        assertEquals(2, e.status());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.statusName());
        assertEquals("1024 bytes", e.detail());
    }
}

// Where the NVIDIA driver is not installed (CI, any machine without an NVIDIA GPU), loading the
// CUDA driver API fails with a clear exception that names libcuda.so.1, every place tried and
// what to install, and the bindings' constants still work. Skipped where libcuda.so.1 loads.
package dev.isthmus.bindings.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.NativeLibraries;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CudaDriverAbsentTest {

    @BeforeEach
    void driverIsAbsent() {
        Assumptions.assumeTrue(NativeLibraries.cudaProblem().isPresent(),
                () -> "libcuda.so.1 loads here (" + NativeLibraries.cuda().describe() + "): nothing is absent to test");
    }

    @Test
    void loaderNamesLibcudaEveryPlaceTriedAndWhatToInstall() {
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, NativeLibraries::cuda);
        String message = e.getMessage();
        assertTrue(message.startsWith("Cannot load the CUDA driver API (libcuda.so.1). Tried, in order:"), message);
        assertTrue(message.contains("the soname libcuda.so.1 through the dynamic linker (LD_LIBRARY_PATH="), message);
        assertTrue(message.contains("NVIDIA driver, not by the CUDA toolkit"), message);
        assertTrue(message.contains("nvidia-smi"), message);
        assertTrue(message.contains(NativeLibraries.CUDA_PROPERTY) && message.contains(NativeLibraries.CUDA_ENV), message);
        assertEquals(message, NativeLibraries.cudaProblem().orElseThrow(), "the same message every time");
        UnsatisfiedLinkError again = assertThrows(UnsatisfiedLinkError.class, NativeLibraries::cuda);
        assertEquals(message, again.getMessage(), "a failure is remembered, not retried with another result");
    }

    @Test
    void constantsNeedNoDriverAndACallFailsWithTheLoadersMessage() {
        assertEquals(0, cuda_h.CUDA_SUCCESS(), "constants are plain Java: no driver needed");
        // A downcall resolves its symbol on first use: the loader's error is the cause.
        // The first call gets the UnsatisfiedLinkError itself, later ones NoClassDefFoundError with it
        // in the cause chain (the JVM's rule for a failed class initializer).
        Throwable t = assertThrows(Throwable.class, () -> cuda_h.cuDriverGetVersion(Arena.ofAuto().allocate(ValueLayout.JAVA_INT)));
        StringBuilder chain = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            chain.append(c).append('\n');
        }
        assertTrue(chain.toString().contains("libcuda.so.1"), "the cause chain names libcuda.so.1:\n" + chain);
    }
}

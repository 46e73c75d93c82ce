// Holds the checked-in CUDA driver API bindings (cuda_h) to the real cuda.h where jextract cannot
// run: a C program built with gcc prints every bound constant, every bound function's parameter
// count and kinds, and what the preprocessor makes of each function's name, so the versioned
// symbols cuda.h #defines (cuMemAlloc -> cuMemAlloc_v2) are the ones bound. Needs gcc and cuda.h
// (the CUDA toolkit), not the driver; where libcuda.so.1 loads, the descriptors and exports are
// checked too, else that one test is skipped with the loader's message.
package dev.isthmus.bindings.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.HeaderConformance;
import dev.isthmus.bindings.NativeLibraries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaBindingsConformanceTest {

    @TempDir
    static Path work;

    static HeaderConformance probe;

    @BeforeAll
    static void runProbe() throws Exception {
        Assumptions.assumeTrue(HeaderConformance.onPath("gcc"), "gcc is not on the PATH: the conformance test needs a C compiler");
        Path include = Path.of(System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"), "include");
        Path header = include.resolve("cuda.h");
        Assumptions.assumeTrue(Files.isRegularFile(header), header + " not found: install the CUDA toolkit (or set CUDA_HOME)");
        probe = HeaderConformance.probe(cuda_h.class, header, List.of("-I", include.toString()), work);
    }

    @Test
    void everyConstantHasTheHeadersValue() {
        Map<String, Object> constants = HeaderConformance.constants(cuda_h.class);
        assertTrue(constants.size() >= 290, "expected every CUresult, device attribute and JIT option, found " + constants.size());
        List<String> differences = probe.constantDifferences();
        assertTrue(differences.isEmpty(), differences.size() + " constants differ from cuda.h:\n" + String.join("\n", differences));
        assertEquals(0, cuda_h.CUDA_SUCCESS());
        assertEquals(100, cuda_h.CUDA_ERROR_NO_DEVICE());
        assertEquals(34, cuda_h.CUDA_ERROR_STUB_LIBRARY());
        assertEquals(1L, cuda_h.CU_STREAM_LEGACY().address());
    }

    @Test
    void everyFunctionMatchesItsPrototype() {
        List<String> functions = HeaderConformance.functions(cuda_h.class);
        assertEquals(33, functions.size(), "the functions of includes-cuda.txt: " + functions);
        List<String> differences = probe.signatureDifferences();
        assertTrue(differences.isEmpty(), differences.size() + " functions differ (parameter count, kinds -> return):\n"
                + String.join("\n", differences));
    }

    /** The mapping includes-cuda.txt documents: cuda.h's API name -> the symbol bound. */
    @Test
    void versionedNamesAreTheOnesCudaHUses() {
        Map<String, String> mapping = new TreeMap<>();
        List<String> differences = probe.nameDifferences(mapping);
        assertTrue(differences.isEmpty(), String.join("\n", differences));
        Map<String, String> expected = new TreeMap<>();
        for (String api : List.of("cuDeviceTotalMem", "cuDevicePrimaryCtxRelease", "cuMemAlloc", "cuMemFree", "cuMemcpyHtoD",
                "cuMemcpyDtoH", "cuMemcpyDtoD", "cuMemsetD8", "cuMemsetD32", "cuStreamDestroy", "cuEventDestroy", "cuEventElapsedTime")) {
            expected.put(api, api + "_v2");
        }
        assertEquals(expected, mapping, "cuda.h's #define name name_v2 for the bound functions");
    }

    @Test
    void everyDescriptorMatchesAndTheDriverExportsEveryFunction() {
        Assumptions.assumeTrue(NativeLibraries.cudaProblem().isEmpty(), () -> NativeLibraries.cudaProblem().orElseThrow());
        NativeLibraries.NativeLibrary library = NativeLibraries.cuda();
        List<String> differences = probe.descriptorDifferences(library.lookup(), library.describe());
        assertTrue(differences.isEmpty(), differences.size() + " functions differ or are missing:\n" + String.join("\n", differences));
    }
}

// Holds the checked-in OpenCL bindings (cl_h) to the real CL/cl.h where jextract cannot run: a C
// program built with gcc, with the flags the bindings were generated with, prints every bound
// constant and every bound function's parameter count and kinds; the test compares them with
// cl_h and checks that libOpenCL.so.1 exports every function. Without gcc or the headers it is
// skipped (opencl-c-headers); without the ICD loader only the export check is.
package dev.isthmus.bindings.opencl;

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

class OpenClBindingsConformanceTest {

    /** The flags of bindings/jextract (Generate.java, jextract.sh); see includes-opencl.txt for why. */
    static final List<String> DEFINES = List.of("-DCL_TARGET_OPENCL_VERSION=300", "-DCL_USE_DEPRECATED_OPENCL_1_2_APIS");

    @TempDir
    static Path work;

    static HeaderConformance probe;

    @BeforeAll
    static void runProbe() throws Exception {
        Assumptions.assumeTrue(HeaderConformance.onPath("gcc"), "gcc is not on the PATH: the conformance test needs a C compiler");
        Path include = Path.of(System.getenv().getOrDefault("OPENCL_INCLUDE", "/usr/include"));
        Path header = include.resolve("CL/cl.h");
        Assumptions.assumeTrue(Files.isRegularFile(header), header + " not found: apt-get install opencl-c-headers (or set OPENCL_INCLUDE)");
        List<String> cflags = new java.util.ArrayList<>(List.of("-I", include.toString()));
        cflags.addAll(DEFINES);
        probe = HeaderConformance.probe(cl_h.class, header, cflags, work);
    }

    @Test
    void everyConstantHasTheHeadersValue() {
        Map<String, Object> constants = HeaderConformance.constants(cl_h.class);
        assertTrue(constants.size() >= 290, "expected every error code and info key of includes-opencl.txt, found " + constants.size());
        List<String> differences = probe.constantDifferences();
        assertTrue(differences.isEmpty(), differences.size() + " constants differ from CL/cl.h:\n" + String.join("\n", differences));
        assertEquals(0, cl_h.CL_SUCCESS());
        assertEquals(-11, cl_h.CL_BUILD_PROGRAM_FAILURE());
        assertEquals(-72, cl_h.CL_MAX_SIZE_RESTRICTION_EXCEEDED(), "the last error code of OpenCL 3.0");
        assertEquals(2, cl_h.CL_QUEUE_PROFILING_ENABLE());
        // 0xFFFFFFFF is an unsigned int in C: the int constant is -1, the cl_device_type (cl_ulong)
        // argument is Integer.toUnsignedLong of it.
        assertEquals(-1, cl_h.CL_DEVICE_TYPE_ALL());
    }

    @Test
    void everyFunctionMatchesItsPrototype() {
        List<String> functions = HeaderConformance.functions(cl_h.class);
        assertEquals(29, functions.size(), "the functions of includes-opencl.txt: " + functions);
        List<String> differences = probe.signatureDifferences();
        differences.addAll(probe.nameDifferences(new TreeMap<>()));
        assertTrue(differences.isEmpty(), differences.size() + " functions differ (parameter count, kinds -> return):\n"
                + String.join("\n", differences));
    }

    @Test
    void everyDescriptorMatchesAndTheLoaderExportsEveryFunction() {
        NativeLibraries.NativeLibrary library = OpenClSmokeTest.openClOrSkip();
        List<String> differences = probe.descriptorDifferences(library.lookup(), library.describe());
        assertTrue(differences.isEmpty(), differences.size() + " functions differ or are missing:\n" + String.join("\n", differences));
    }
}

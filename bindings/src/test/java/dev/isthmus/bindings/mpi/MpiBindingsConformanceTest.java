// Holds the checked-in Open MPI bindings (mpi_h) to the real mpi.h where jextract cannot run: a C
// program built with gcc prints every bound constant and every bound function's parameter count
// and kinds; the test compares them with mpi_h, checks the handle types' sizes (MPI_Request,
// MPI_Comm, ... are pointers in Open MPI: Java MemorySegments) and that libmpi.so.40 exports
// every bound function. Skipped without gcc or without Debian's libopenmpi-dev; the export check
// without the library (openmpi-bin's libopenmpi3).
package dev.isthmus.bindings.mpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.HeaderConformance;
import dev.isthmus.bindings.NativeLibraries;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MpiBindingsConformanceTest {

    @TempDir
    static Path work;

    static Path include;
    static HeaderConformance probe;

    @BeforeAll
    static void runProbe() throws Exception {
        Assumptions.assumeTrue(HeaderConformance.onPath("gcc"), "gcc is not on the PATH: the conformance test needs a C compiler");
        include = Path.of(System.getenv().getOrDefault("MPI_INCLUDE", "/usr/lib/x86_64-linux-gnu/openmpi/include"));
        Path header = include.resolve("mpi.h");
        Assumptions.assumeTrue(Files.isRegularFile(header), header + " not found: apt-get install libopenmpi-dev (or set MPI_INCLUDE)");
        probe = HeaderConformance.probe(mpi_h.class, header, List.of("-I", include.toString()), work);
    }

    @Test
    void everyConstantHasTheHeadersValue() {
        Map<String, Object> constants = HeaderConformance.constants(mpi_h.class);
        assertEquals(26, constants.size(), "the constants of includes-mpi.txt: " + constants.keySet());
        List<String> differences = probe.constantDifferences();
        assertTrue(differences.isEmpty(), differences.size() + " constants differ from mpi.h:\n" + String.join("\n", differences));
        assertEquals(0, mpi_h.MPI_SUCCESS());
        assertEquals(3, mpi_h.MPI_THREAD_MULTIPLE(), "MPI_THREAD_SINGLE < FUNNELED < SERIALIZED < MULTIPLE, from 0");
        assertEquals(256, mpi_h.MPI_MAX_ERROR_STRING());
        assertEquals(1L, mpi_h.MPI_IN_PLACE().address(), "Open MPI's MPI_IN_PLACE is (void *) 1");
        assertEquals(MemorySegment.NULL, mpi_h.MPI_STATUS_IGNORE());
    }

    @Test
    void everyFunctionMatchesItsPrototype() {
        List<String> functions = HeaderConformance.functions(mpi_h.class);
        assertEquals(18, functions.size(), "the functions of includes-mpi.txt: " + functions);
        List<String> differences = probe.signatureDifferences();
        differences.addAll(probe.nameDifferences(new TreeMap<>()));
        assertTrue(differences.isEmpty(), differences.size() + " functions differ (parameter count, kinds -> return):\n"
                + String.join("\n", differences));
    }

    /** The handles are passed as MemorySegments: in Open MPI every one is a pointer (8 bytes here). */
    @Test
    void handleTypesArePointers() throws Exception {
        Path source = work.resolve("mpi_sizes.c");
        Files.writeString(source, """
                #include <stdio.h>
                #include <mpi.h>
                int main(void) {
                    printf("MPI_Request %zu\\nMPI_Comm %zu\\nMPI_Datatype %zu\\nMPI_Op %zu\\nMPI_Errhandler %zu\\n",
                           sizeof(MPI_Request), sizeof(MPI_Comm), sizeof(MPI_Datatype), sizeof(MPI_Op), sizeof(MPI_Errhandler));
                    return 0;
                }
                """);
        Path exe = work.resolve("mpi_sizes");
        HeaderConformance.run(work, "gcc", "-I", include.toString(), source.toString(), "-o", exe.toString());
        String out = HeaderConformance.run(work, exe.toString());
        long pointer = ValueLayout.ADDRESS.byteSize();
        for (String type : List.of("MPI_Request", "MPI_Comm", "MPI_Datatype", "MPI_Op", "MPI_Errhandler")) {
            assertTrue(out.contains(type + " " + pointer + "\n"), "sizeof(" + type + ") should be " + pointer
                    + " (a pointer, bound as MemorySegment); the probe printed:\n" + out);
        }
    }

    @Test
    void everyDescriptorMatchesAndTheLibraryExportsEveryFunction() {
        Assumptions.assumeTrue(NativeLibraries.mpiProblem().isEmpty(), () -> NativeLibraries.mpiProblem().orElse(""));
        NativeLibraries.NativeLibrary library = NativeLibraries.mpi();
        List<String> differences = probe.descriptorDifferences(library.lookup(), library.path().toString());
        assertTrue(differences.isEmpty(), differences.size() + " functions differ or are missing:\n" + String.join("\n", differences));
    }
}

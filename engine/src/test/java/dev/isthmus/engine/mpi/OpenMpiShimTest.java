// Holds OpenMpiShim's handle table to the installed mpi.h: the preprocessor's expansion of each
// macro (MPI_COMM_WORLD, ...) must take the address of the global the shim looks up, and
// libmpi.so.40 must export it. Skipped without gcc or libopenmpi-dev.
package dev.isthmus.engine.mpi;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.NativeLibraries;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenMpiShimTest {

    @Test
    void everyHandleIsTheAddressOfTheGlobalTheHeaderNames(@TempDir Path work) throws Exception {
        Path include = Path.of(System.getenv().getOrDefault("MPI_INCLUDE", "/usr/lib/x86_64-linux-gnu/openmpi/include"));
        Assumptions.assumeTrue(Files.isRegularFile(include.resolve("mpi.h")), "no mpi.h: apt-get install libopenmpi-dev");
        StringBuilder c = new StringBuilder("#include <mpi.h>\n");
        for (String macro : OpenMpiShim.SYMBOLS.keySet()) c.append("isthmus_handle \"").append(macro).append("\" = ").append(macro).append("\n");
        Path source = work.resolve("handles.c");
        Files.writeString(source, c);
        Process p = new ProcessBuilder("gcc", "-E", "-P", "-I", include.toString(), source.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Assumptions.assumeTrue(p.waitFor() == 0, "gcc -E failed:\n" + out);
        for (Map.Entry<String, String> e : OpenMpiShim.SYMBOLS.entrySet()) {
            String line = out.lines().filter(l -> l.startsWith("isthmus_handle \"" + e.getKey() + "\" ")).findFirst().orElse("");
            assertTrue(line.replace(" ", "").contains("&(" + e.getValue() + ")"), e.getKey() + " should expand to the address of "
                    + e.getValue() + "; the preprocessor gives: " + line);
        }
        Assumptions.assumeTrue(NativeLibraries.mpiProblem().isEmpty(), () -> NativeLibraries.mpiProblem().orElse(""));
        for (String symbol : OpenMpiShim.SYMBOLS.values()) {
            assertTrue(NativeLibraries.mpi().lookup().find(symbol).isPresent(), "libmpi.so.40 does not export " + symbol);
        }
    }
}

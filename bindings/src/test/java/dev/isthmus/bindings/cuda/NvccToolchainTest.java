// Proves the CUDA toolchain path that needs no GPU: nvcc compiles the tests' kernel to PTX for
// sm_75, and ptxas assembles that PTX into a cubin (the validation the driver's JIT would do).
// Skipped, saying why, where nvcc is not installed.
package dev.isthmus.bindings.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.bindings.HeaderConformance;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NvccToolchainTest {

    @TempDir
    Path work;

    @Test
    void vectorAddCompilesToPtxAndAssemblesForSm75() throws Exception {
        Path bin = Nvcc.bin().orElse(null);
        Assumptions.assumeTrue(bin != null, "nvcc not found on the PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin: install the CUDA toolkit");
        Path ptx = Nvcc.vectorAddPtx(bin, work);
        String text = Files.readString(ptx);
        assertTrue(text.contains(".target " + Nvcc.ARCH), "PTX for " + Nvcc.ARCH + ":\n" + text);
        assertTrue(text.contains(".entry vector_add("), "an unmangled entry vector_add:\n" + text);

        Path ptxas = bin.resolve("ptxas");
        Path cubin = work.resolve("vector_add.cubin");
        String log = HeaderConformance.run(work, Files.isExecutable(ptxas) ? ptxas.toString() : "ptxas", "-arch=" + Nvcc.ARCH, "-v",
                ptx.toString(), "-o", cubin.toString());
        assertTrue(log.contains("vector_add"), "ptxas -v reports the kernel's resources:\n" + log);
        byte[] elf = Files.readAllBytes(cubin);
        assertTrue(elf.length > 4 && elf[0] == 0x7f && elf[1] == 'E' && elf[2] == 'L' && elf[3] == 'F', "a cubin is an ELF file");
    }
}

// The CUDA toolkit's compilers for the CUDA tests: finds nvcc (PATH, then $CUDA_HOME/bin, then
// /usr/local/cuda/bin) and compiles the tests' kernel to PTX. The kernel is extern "C" so that
// its PTX entry has the plain name cuModuleGetFunction is given.
package dev.isthmus.bindings.cuda;

import dev.isthmus.bindings.HeaderConformance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

final class Nvcc {

    /** c = a + b over (n,) floats, one thread per element, bounds-checked. */
    static final String VECTOR_ADD = """
            extern "C" __global__ void vector_add(const float *a, const float *b, float *c, int n) {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) {
                    c[i] = a[i] + b[i];
                }
            }
            """;

    /** The oldest architecture nvcc 13 compiles for. */
    static final String ARCH = "sm_75";

    private Nvcc() {}

    /** The folder holding nvcc and ptxas, if any. */
    static Optional<Path> bin() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return Optional.of(Path.of(dir));
            }
        }
        for (String home : new String[] {System.getenv("CUDA_HOME"), "/usr/local/cuda"}) {
            if (home != null && Files.isExecutable(Path.of(home, "bin", "nvcc"))) {
                return Optional.of(Path.of(home, "bin"));
            }
        }
        return Optional.empty();
    }

    /** Compiles VECTOR_ADD to PTX for ARCH in {@code work}; returns the .ptx file. */
    static Path vectorAddPtx(Path bin, Path work) throws IOException, InterruptedException {
        Path source = Files.writeString(work.resolve("vector_add.cu"), VECTOR_ADD);
        Path ptx = work.resolve("vector_add.ptx");
        HeaderConformance.run(work, bin.resolve("nvcc").toString(), "-ptx", "-arch=" + ARCH, source.toString(), "-o", ptx.toString());
        return ptx;
    }
}

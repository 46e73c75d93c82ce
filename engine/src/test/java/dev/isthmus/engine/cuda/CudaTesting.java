package dev.isthmus.engine.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/** Shared by the CUDA tests: the skips that say why, and nvcc (copies: testing.DeviceTensors). */
final class CudaTesting {
    private CudaTesting() {}

    /**
     * A backend on the default device, or null when none can run here: call once from
     * {@code @BeforeAll}, then {@link #assumeBackend} from {@code @BeforeEach}, so that every test
     * is reported skipped with the reason (Surefire hides the reason of a class-level skip).
     */
    static CudaBackend backendOrNull() {
        if (CudaBackend.problem().isPresent()) return null;
        CudaBackend backend = new CudaBackend();
        System.out.println(backend.describe());
        return backend;
    }

    /** A JUnit skip with the reason (the loader's message, no PTX, no GPU) unless {@code backend} exists. */
    static void assumeBackend(CudaBackend backend) {
        Assumptions.assumeTrue(backend != null, () -> CudaBackend.problem().orElse("no cuda backend"));
    }

    /** The folder holding nvcc and ptxas (PATH, $CUDA_HOME/bin, /usr/local/cuda/bin), if any; as build-ptx.sh looks. */
    static Optional<Path> nvccBin() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) return Optional.of(Path.of(dir));
        }
        for (String home : new String[] {System.getenv("CUDA_HOME"), "/usr/local/cuda"}) {
            if (home != null && Files.isExecutable(Path.of(home, "bin", "nvcc"))) return Optional.of(Path.of(home, "bin"));
        }
        return Optional.empty();
    }
}

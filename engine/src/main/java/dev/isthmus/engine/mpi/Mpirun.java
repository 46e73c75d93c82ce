package dev.isthmus.engine.mpi;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code mpirun} command line that starts N ranks of a program on this machine, as
 * {@code ./isthmus lenet --ranks N} and the 2-rank tests run it (Open MPI 4's flags):
 *
 * <ul>
 * <li>{@code --bind-to none}: with at most 2 ranks Open MPI binds each to one core, and the JVM
 *     would then see one processor; threads per rank are set instead (OMP_NUM_THREADS for
 *     oneDNN, {@code -XX:ActiveProcessorCount} for the JVM's and the simd backend's pools);</li>
 * <li>{@code --oversubscribe}: more ranks than cores is allowed (slow, but it runs);</li>
 * <li>{@code --allow-run-as-root} when the user is root (containers, CI);</li>
 * <li>{@code --mca btl_vader_single_copy_mechanism none}: in a container the shared-memory
 *     transport's CMA copy is refused and Open MPI warns; plain copies through shared memory.</li>
 * </ul>
 */
public final class Mpirun {
    /** The Debian packages that provide mpirun and libmpi.so.40. */
    public static final String PACKAGES = "openmpi-bin libopenmpi-dev";

    private Mpirun() {}

    /** mpirun on the PATH, if any. */
    public static Optional<Path> find() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, "mpirun");
            if (Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** mpirun on the PATH, or an exception naming the packages to install. */
    public static Path require() {
        return find().orElseThrow(() -> new IllegalStateException("mpirun is not on the PATH: multi-rank training needs Open MPI;"
                + " on Debian or Ubuntu: apt-get install " + PACKAGES));
    }

    /** Cores per rank on this machine (at least 1): the available processors divided among the ranks. */
    public static int threadsPerRank(int ranks) {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / ranks);
    }

    /**
     * {@code mpirun -np ranks ...flags... [extra] program...}, every rank with {@code threads}
     * threads. {@code extra} holds further mpirun options ({@code --mca btl tcp,self}).
     */
    public static List<String> command(Path mpirun, int ranks, int threads, List<String> extra, List<String> program) {
        if (ranks < 1) throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
        if (threads < 1) throw new IllegalArgumentException("threads per rank must be >= 1, got " + threads);
        List<String> c = new ArrayList<>(List.of(mpirun.toString(), "-np", Integer.toString(ranks), "--oversubscribe",
                "--bind-to", "none"));
        if ("root".equals(System.getProperty("user.name"))) c.add("--allow-run-as-root");
        c.addAll(List.of("--mca", "btl_vader_single_copy_mechanism", "none"));
        c.addAll(List.of("-x", "OMP_NUM_THREADS=" + threads));
        c.addAll(extra);
        c.addAll(program);
        return c;
    }

    /** The JVM flag that makes {@code availableProcessors()} (and so the simd backend's pool) equal {@code threads}. */
    public static String jvmThreadsFlag(int threads) {
        return "-XX:ActiveProcessorCount=" + threads;
    }
}

// Starts a test main under mpirun (2 ranks unless said otherwise) with the flags of Mpirun and
// returns its exit status and output; skipped (JUnit assumption) where Open MPI is not installed.
package dev.isthmus.engine.mpi;

import dev.isthmus.bindings.NativeLibraries;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

public final class MpiTesting {
    private MpiTesting() {}

    /**
     * What a run printed (every rank's stdout and stderr and mpirun's own, together as they came),
     * its exit status, how long it took, and each rank's own output (stdout then stderr, from
     * mpirun's --output-filename: lines of two ranks can interleave in {@code output}).
     */
    public record Run(int exit, String output, double seconds, List<String> ranks) {
        /** Rank {@code r}'s own stdout and stderr. */
        public String rank(int r) { return ranks.get(r); }
    }

    /** Skips the test unless mpirun and libmpi.so.40 are installed. */
    public static Path requireMpi() {
        Assumptions.assumeTrue(Mpirun.find().isPresent(), "mpirun not on the PATH: apt-get install " + Mpirun.PACKAGES);
        Assumptions.assumeTrue(NativeLibraries.mpiProblem().isEmpty(), () -> NativeLibraries.mpiProblem().orElse(""));
        return Mpirun.find().orElseThrow();
    }

    /** The java command line of a rank: this JVM's binary and class path, a small quick-starting JVM. */
    public static List<String> java(Class<?> main, List<String> jvmFlags, String... args) {
        List<String> c = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector", "-Xshare:auto",
                "-XX:+UseSerialGC", "-Xmx512m", "-cp", System.getProperty("java.class.path")));
        c.addAll(jvmFlags);
        c.add(main.getName());
        c.addAll(List.of(args));
        return c;
    }

    /** Runs {@code program} on {@code ranks} ranks; kills it after {@code limitSeconds}. */
    public static Run mpirun(int ranks, List<String> mpirunExtra, List<String> program, double limitSeconds) throws Exception {
        Path files = java.nio.file.Files.createTempDirectory("isthmus-mpirun-");
        List<String> extra = new ArrayList<>(List.of("--output-filename", files.toString()));
        extra.addAll(mpirunExtra);
        List<String> command = Mpirun.command(requireMpi(), ranks, 1, extra, program);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        long t0 = System.nanoTime();
        Process p = pb.start();
        byte[][] out = new byte[1][];
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                out[0] = p.getInputStream().readAllBytes();
            } catch (java.io.IOException e) {
                out[0] = ("reading the output failed: " + e).getBytes(StandardCharsets.UTF_8);
            }
        });
        boolean finished = p.waitFor((long) (limitSeconds * 1000), TimeUnit.MILLISECONDS);
        if (!finished) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor();
        }
        reader.join(10_000);
        String text = out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!finished) throw new AssertionError("mpirun did not finish within " + limitSeconds + " s: " + command + "\n" + text);
        List<String> perRank = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            StringBuilder b = new StringBuilder();
            for (String stream : List.of("stdout", "stderr")) {
                Path f = files.resolve("1").resolve("rank." + r).resolve(stream);
                if (java.nio.file.Files.exists(f)) b.append(java.nio.file.Files.readString(f));
            }
            perRank.add(b.toString());
        }
        try (var walk = java.nio.file.Files.walk(files)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.delete(f);
        }
        return new Run(p.exitValue(), text, seconds, perRank);
    }
}

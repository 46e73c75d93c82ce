// `--ranks N` of `isthmus lenet` and `isthmus alexnet`: outside mpirun the command starts
// mpirun itself (N ranks on this machine, each running the same command line through the
// ./isthmus script) and prints what it ran; inside, each rank joins MPI's world. A rank that
// fails ends the whole job (MPI_Abort) with a line naming the rank and the cause.
package dev.isthmus.examples;

import dev.isthmus.engine.Communicator;
import dev.isthmus.engine.mpi.MpiCommunicator;
import dev.isthmus.engine.mpi.Mpirun;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Starting and joining a data-parallel job from a command. */
final class Distributed {
    static final String RANKS = "ranks", TIMEOUT = "mpi-timeout";

    private Distributed() {}

    /** The two flags every distributed command declares. */
    static Args.Spec declare(Args.Spec spec) {
        return spec.flag(RANKS, "N", "1", "data-parallel ranks: starts mpirun -np N on this machine (cores / N threads each);\n"
                        + "under mpirun (--hostfile), the job's size. --batch is per rank: the global batch is N x --batch").onlyFor("train")
                .flag(TIMEOUT, "S", "300", "seconds a collective may wait for the other ranks before the job is aborted").onlyFor("train");
    }

    /** Whether this invocation should start mpirun instead of training (--ranks > 1, not under mpirun). */
    static boolean shouldLaunch(Args args) {
        return args.intInRange(RANKS, 1, 4096) > 1 && !MpiCommunicator.launched();
    }

    /**
     * Runs {@code mpirun -np N ... <root>/isthmus <command> <same flags>} on this machine, its
     * output going to ours; returns its exit status.
     */
    static int launch(String command, Args args, PrintStream out) throws Exception {
        int ranks = args.intInRange(RANKS, 1, 4096);
        Path mpirun = Mpirun.require();
        int threads = Mpirun.threadsPerRank(ranks);
        Path script = Path.of(System.getProperty("isthmus.root", "."), "isthmus");
        List<String> program = new ArrayList<>(List.of(script.toString(), command));
        program.addAll(args.words());
        String javaOpts = Mpirun.jvmThreadsFlag(threads);
        List<String> line = Mpirun.command(mpirun, ranks, threads, List.of("-x", "ISTHMUS_JAVA_OPTS=" + javaOpts), program);
        out.printf(Locale.ROOT, "isthmus %s: %d ranks x %d thread%s: %s%n", command, ranks, threads, threads == 1 ? "" : "s",
                String.join(" ", line));
        out.flush();
        Process p = new ProcessBuilder(line).inheritIO().start();
        return p.waitFor();
    }

    /** MPI's world under mpirun (its size must be --ranks when that was given), else a 1-process communicator. */
    static Communicator join(Args args) {
        double timeout = args.floatInRange(TIMEOUT, 1f, 1e6f);
        Communicator comm = Communicator.fromEnvironment(timeout);
        if (args.has(RANKS) && args.intInRange(RANKS, 1, 4096) != comm.size()) {
            int size = comm.size();
            comm.close();
            throw new Args.UsageError("--ranks " + args.string(RANKS) + " but mpirun started " + size + " ranks");
        }
        return comm;
    }

    /** The per-rank batch: --batch when given, else the 1-rank default divided among the ranks. */
    static int localBatch(Args args, int defaultGlobal, int ranks) {
        if (args.has("batch")) return args.positiveInt("batch");
        if (defaultGlobal % ranks != 0 || defaultGlobal < ranks) {
            throw new Args.UsageError("the default batch " + defaultGlobal + " does not split into " + ranks + " ranks: give --batch (per rank)");
        }
        return defaultGlobal / ranks;
    }

    /** A work of one rank. */
    interface RankWork {
        int run(Communicator comm, PrintStream out) throws Exception;
    }

    /**
     * Runs {@code work} as one rank: rank 0 prints to {@code out}, the others print nothing; a
     * failure on any rank of a multi-rank job aborts the job naming the rank and the cause.
     */
    static int run(Args args, String command, PrintStream out, RankWork work) throws Exception {
        Communicator comm = join(args);
        PrintStream mine = comm.rank() == 0 ? out : new PrintStream(OutputStream.nullOutputStream());
        int code;
        try {
            code = work.run(comm, mine);
        } catch (Exception | Error e) {
            if (comm.size() == 1) {
                comm.close();
                throw e;
            }
            String message = e.getMessage() == null ? e.getClass().getName() : e.getMessage().lines().findFirst().orElse("");
            comm.abort("isthmus " + command + ": rank " + comm.rank() + " of " + comm.size() + " failed: " + message
                    + "; aborting the job", 1);
            return 1;
        }
        comm.close();
        return code;
    }
}

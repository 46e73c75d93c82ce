package dev.isthmus.engine;

/**
 * A group of processes (ranks) that train one model together, over host tensors: MPI's
 * collectives on float32 data, named as in MPI. Every rank must make the same calls in the same
 * order (MPI's rule for collectives); a rank that does not arrives nowhere and the others wait,
 * which is what an implementation's watchdog turns into an abort.
 *
 * <p>Two implementations: {@link SingleProcessCommunicator} (size 1, no MPI needed: every
 * collective is the identity) and {@code dev.isthmus.engine.mpi.MpiCommunicator} (Open MPI
 * through FFM, for processes started by {@code mpirun}). {@link #fromEnvironment} picks one.
 *
 * <p>Tensors must live on the host (the dnnl, simd and reference backends); counts are MPI
 * {@code int}s, so a tensor holds at most 2^31 - 1 elements.
 */
public interface Communicator extends AutoCloseable {

    /** This process's rank, in [0, size). */
    int rank();

    /** The number of ranks. */
    int size();

    /** Copies {@code tensor} of rank {@code root} into {@code tensor} of every rank (MPI_Bcast). */
    void broadcast(Tensor tensor, int root);

    /** Replaces {@code tensor} on every rank by the element-wise sum over all ranks (MPI_Allreduce, in place). */
    void allreduceSum(Tensor tensor);

    /**
     * Starts an in-place sum allreduce of {@code tensor} and returns at once (MPI_Iallreduce):
     * the tensor must not be read or written until {@link Pending#await} returns. Without an
     * asynchronous progress thread (Debian's Open MPI) it advances only inside MPI calls, so
     * call {@link Pending#test} now and then while computing.
     */
    Pending allreduceSumAsync(Tensor tensor);

    /** Replaces {@code values} by their element-wise sum over all ranks (double precision: metrics, checksums). */
    void allreduceSum(double[] values);

    /** Copies {@code values} of rank {@code root} into {@code values} of every rank. */
    void broadcast(double[] values, int root);

    /** Returns when every rank has called it (MPI_Barrier). */
    void barrier();

    /**
     * Ends every rank of the job (MPI_Abort) after printing {@code message} on this rank's
     * standard error; does not return. For a failure one rank cannot recover from alone.
     */
    void abort(String message, int exitCode);

    /** "1 process" or "Open MPI v4.1.4, 2 ranks": for logs. */
    String describe();

    /** Ends this rank's part (MPI_Finalize); every rank must call it. */
    @Override void close();

    /** An allreduce in flight. */
    interface Pending {
        /** Advances it and returns whether it has completed (MPI_Test); never blocks. */
        boolean test();

        /** Blocks until it has completed (MPI_Wait), under the watchdog's timeout. */
        void await();
    }

    /** A completed request, for implementations whose collectives finish at once. */
    Pending DONE = new Pending() {
        @Override public boolean test() { return true; }

        @Override public void await() {}
    };

    /**
     * The communicator of this process: MPI's world when it was started by {@code mpirun}
     * (Open MPI's OMPI_COMM_WORLD_SIZE is set), else a {@link SingleProcessCommunicator}.
     * {@code timeoutSeconds} bounds every blocking collective (0: no watchdog).
     */
    static Communicator fromEnvironment(double timeoutSeconds) {
        return dev.isthmus.engine.mpi.MpiCommunicator.launched()
                ? dev.isthmus.engine.mpi.MpiCommunicator.initialize(timeoutSeconds)
                : new SingleProcessCommunicator();
    }

    /** Throws unless {@code tensor} is host memory that MPI can address with an int count. */
    static void requireHost(Tensor tensor, String call) {
        if (!tensor.device().isHost()) {
            throw new IllegalArgumentException(call + ": tensor " + tensor.shape() + " lives on " + tensor.device()
                    + "; MPI collectives here take host tensors (dnnl, simd or reference backends)");
        }
        if (tensor.elements() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(call + ": tensor " + tensor.shape() + " has " + tensor.elements()
                    + " elements, more than MPI's int count allows (2^31 - 1)");
        }
    }
}

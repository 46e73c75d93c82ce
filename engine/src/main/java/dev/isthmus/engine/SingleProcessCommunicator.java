package dev.isthmus.engine;

/**
 * The {@link Communicator} of a job of one rank: every collective is the identity, no MPI is
 * loaded. The same checks as MPI's (host tensors, root 0) so that code tested here fails the
 * same way under {@code mpirun}.
 */
public final class SingleProcessCommunicator implements Communicator {
    private boolean closed;

    @Override public int rank() { return 0; }

    @Override public int size() { return 1; }

    @Override public void broadcast(Tensor tensor, int root) {
        checkOpen();
        Communicator.requireHost(tensor, "broadcast");
        requireRoot(root);
    }

    @Override public void allreduceSum(Tensor tensor) {
        checkOpen();
        Communicator.requireHost(tensor, "allreduceSum");
    }

    @Override public Pending allreduceSumAsync(Tensor tensor) {
        allreduceSum(tensor);
        return DONE;
    }

    @Override public void allreduceSum(double[] values) {
        checkOpen();
    }

    @Override public void broadcast(double[] values, int root) {
        checkOpen();
        requireRoot(root);
    }

    @Override public void barrier() {
        checkOpen();
    }

    @Override public void abort(String message, int exitCode) {
        System.err.println(message);
        System.err.flush();
        Runtime.getRuntime().halt(exitCode);
    }

    @Override public String describe() { return "1 process (no MPI)"; }

    @Override public void close() { closed = true; }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the communicator is closed");
    }

    private static void requireRoot(int root) {
        if (root != 0) throw new IllegalArgumentException("root " + root + " is not a rank of a 1-process job (only 0)");
    }
}

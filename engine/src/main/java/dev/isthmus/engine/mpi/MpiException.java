package dev.isthmus.engine.mpi;

/** An MPI call returned an error: names the call, the rank and MPI's own error string. */
public final class MpiException extends RuntimeException {
    private final String call;
    private final int code;

    MpiException(String call, int code, String mpiMessage, int rank, int size) {
        super(call + " failed on rank " + rank + " of " + size + ": " + mpiMessage + " (error code " + code + ")");
        this.call = call;
        this.code = code;
    }

    /** The C function, "MPI_Bcast". */
    public String call() { return call; }

    /** The error code it returned. */
    public int code() { return code; }
}

package dev.isthmus.engine.mpi;

import java.lang.foreign.MemorySegment;

/**
 * What differs between MPI implementations once the functions are bound: how the predefined
 * handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are obtained and how a process tells that
 * {@code mpirun} started it. The MPI standard fixes the functions but not the ABI of these
 * handles; everything else in {@link MpiCommunicator} is implementation-neutral.
 *
 * <p>Open MPI ({@link OpenMpiShim}, the one implemented): each handle is the address of an
 * exported global ({@code MPI_COMM_WORLD} is {@code &ompi_mpi_comm_world}), looked up by symbol.
 *
 * <p>MPICH (not implemented; what it would need): its handles are {@code int} constants
 * ({@code MPI_COMM_WORLD} is {@code 0x44000000}, {@code MPI_FLOAT} {@code 0x4c00040a},
 * {@code MPI_SUM} {@code 0x58000003}, {@code MPI_ERRORS_RETURN} {@code 0x54000001}), and
 * {@code MPI_Comm}, {@code MPI_Datatype}, {@code MPI_Op} and {@code MPI_Request} are typedefs of
 * {@code int}. So it needs its own {@code mpi_h} generated from MPICH's {@code mpi.h} (a second
 * Generate.java target: the handle parameters become {@code int}, the handles constants), a
 * shim returning those ints, {@code libmpi.so.12}, and {@code PMI_RANK}/{@code PMI_SIZE} for
 * {@link #launched}. Its {@code MPI_IN_PLACE} is {@code (void *) -1}, not 1.
 */
interface MpiShim {
    /** "Open MPI", for messages. */
    String implementation();

    /** Whether this process was started by the implementation's launcher (its environment variables). */
    boolean launched();

    MemorySegment commWorld();

    MemorySegment floatType();

    MemorySegment doubleType();

    MemorySegment sum();

    /** The error handler that makes calls return their error code instead of ending the job. */
    MemorySegment errorsReturn();
}

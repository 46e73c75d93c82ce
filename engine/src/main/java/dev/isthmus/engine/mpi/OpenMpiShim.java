package dev.isthmus.engine.mpi;

import dev.isthmus.bindings.NativeLibraries;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Open MPI's predefined handles: its {@code mpi.h} defines each as the address of an exported
 * global, {@code #define MPI_COMM_WORLD OMPI_PREDEFINED_GLOBAL(MPI_Comm, ompi_mpi_comm_world)},
 * so the handle is the symbol's address in {@code libmpi.so.40}. {@link #SYMBOLS} lists the
 * macros and symbols; OpenMpiShimTest holds it to the installed header.
 */
final class OpenMpiShim implements MpiShim {
    /** Macro in mpi.h -> the global it takes the address of. */
    static final Map<String, String> SYMBOLS = symbols();

    private final MemorySegment commWorld, floatType, doubleType, sum, errorsReturn;

    OpenMpiShim() {
        commWorld = find("MPI_COMM_WORLD");
        floatType = find("MPI_FLOAT");
        doubleType = find("MPI_DOUBLE");
        sum = find("MPI_SUM");
        errorsReturn = find("MPI_ERRORS_RETURN");
    }

    private static Map<String, String> symbols() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("MPI_COMM_WORLD", "ompi_mpi_comm_world");
        m.put("MPI_FLOAT", "ompi_mpi_float");
        m.put("MPI_DOUBLE", "ompi_mpi_double");
        m.put("MPI_SUM", "ompi_mpi_op_sum");
        m.put("MPI_ERRORS_RETURN", "ompi_mpi_errors_return");
        return Map.copyOf(m);
    }

    private static MemorySegment find(String macro) {
        String symbol = SYMBOLS.get(macro);
        NativeLibraries.NativeLibrary mpi = NativeLibraries.mpi();
        return mpi.lookup().find(symbol).orElseThrow(() -> new UnsatisfiedLinkError(mpi.path() + " does not export "
                + symbol + " (Open MPI's " + macro + "): is it Open MPI 4 or 5? MPICH's handles are ints, see MpiShim"));
    }

    /** mpirun of Open MPI 4 and 5 sets OMPI_COMM_WORLD_SIZE in every rank's environment. */
    static boolean launchedByMpirun() {
        return System.getenv("OMPI_COMM_WORLD_SIZE") != null;
    }

    @Override public String implementation() { return "Open MPI"; }

    @Override public boolean launched() { return launchedByMpirun(); }

    @Override public MemorySegment commWorld() { return commWorld; }

    @Override public MemorySegment floatType() { return floatType; }

    @Override public MemorySegment doubleType() { return doubleType; }

    @Override public MemorySegment sum() { return sum; }

    @Override public MemorySegment errorsReturn() { return errorsReturn; }
}

package dev.isthmus.engine.mpi;

import dev.isthmus.bindings.mpi.mpi_h;
import dev.isthmus.engine.Communicator;
import dev.isthmus.engine.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Locale;

/**
 * MPI's world communicator through the FFM bindings ({@code mpi_h}), for ranks started by
 * {@code mpirun}. Initialised once per process with {@code MPI_THREAD_MULTIPLE} (the watchdog
 * aborts from its own thread) and {@code MPI_ERRORS_RETURN}, so that every failing call becomes
 * an {@link MpiException} naming the call and MPI's error string instead of killing the job
 * silently. Blocking collectives run under a {@link Watchdog}; {@link #abort} ends every rank.
 *
 * <p>Used from one thread (the training loop); the watchdog only ever calls {@code MPI_Abort}.
 */
public final class MpiCommunicator implements Communicator {
    private static MpiCommunicator instance;   // MPI_Init_thread may be called once per process

    private final MpiShim shim;
    private final int rank, size, threadLevel;
    private final String version;
    private final Arena arena = Arena.ofShared();          // out-parameters and scratch, for the process's life
    private final MemorySegment intSlot;                   // one int out-parameter
    private final MemorySegment flagSlot;                  // MPI_Test's flag
    private MemorySegment doubles;                         // scratch for allreduceSum(double[]), grown when needed
    private final ArrayDeque<MemorySegment> freeRequests = new ArrayDeque<>();   // MPI_Request slots, reused
    private final Watchdog watchdog;
    private boolean closed;

    /** Whether {@code mpirun} started this process. */
    public static boolean launched() {
        return OpenMpiShim.launchedByMpirun();
    }

    /**
     * Initialises MPI (once per process; later calls return the same communicator). Every
     * blocking collective longer than {@code timeoutSeconds} aborts the job (0: no watchdog).
     */
    public static synchronized MpiCommunicator initialize(double timeoutSeconds) {
        if (instance == null) instance = new MpiCommunicator(new OpenMpiShim(), timeoutSeconds);
        return instance;
    }

    private MpiCommunicator(MpiShim shim, double timeoutSeconds) {
        if (!(timeoutSeconds >= 0)) throw new IllegalArgumentException("the collective timeout must be >= 0 s, got " + timeoutSeconds);
        this.shim = shim;
        this.intSlot = arena.allocate(ValueLayout.JAVA_INT);
        this.flagSlot = arena.allocate(ValueLayout.JAVA_INT);
        this.doubles = arena.allocate(ValueLayout.JAVA_DOUBLE, 64);
        check("MPI_Initialized", mpi_h.MPI_Initialized(intSlot), 0, 1);
        if (intSlot.get(ValueLayout.JAVA_INT, 0) != 0) {
            throw new IllegalStateException("MPI is already initialised in this process by someone else");
        }
        check("MPI_Init_thread", mpi_h.MPI_Init_thread(MemorySegment.NULL, MemorySegment.NULL, mpi_h.MPI_THREAD_MULTIPLE(), intSlot), 0, 1);
        this.threadLevel = intSlot.get(ValueLayout.JAVA_INT, 0);
        check("MPI_Comm_set_errhandler", mpi_h.MPI_Comm_set_errhandler(shim.commWorld(), shim.errorsReturn()), 0, 1);
        check("MPI_Comm_rank", mpi_h.MPI_Comm_rank(shim.commWorld(), intSlot), 0, 1);
        this.rank = intSlot.get(ValueLayout.JAVA_INT, 0);
        check("MPI_Comm_size", mpi_h.MPI_Comm_size(shim.commWorld(), intSlot), rank, 0);
        this.size = intSlot.get(ValueLayout.JAVA_INT, 0);
        this.version = libraryVersion();
        this.watchdog = timeoutSeconds > 0 ? new Watchdog(timeoutSeconds, what -> abort("isthmus rank " + rank + " of " + size
                + ": " + what + ": another rank has died, hangs or is far behind (watchdog timeout "
                + String.format(Locale.ROOT, "%.0f", timeoutSeconds) + " s: --mpi-timeout, or isthmus.mpi.timeout); aborting the job", 3))
                : null;
    }

    @Override public int rank() { return rank; }

    @Override public int size() { return size; }

    /** The thread level MPI granted (mpi_h.MPI_THREAD_MULTIPLE() asked). */
    public int threadLevel() { return threadLevel; }

    @Override public void broadcast(Tensor tensor, int root) {
        checkOpen();
        Communicator.requireHost(tensor, "MPI_Bcast");
        int n = (int) tensor.elements();
        enter("MPI_Bcast of ", n, "floats");
        try {
            check("MPI_Bcast", mpi_h.MPI_Bcast(tensor.segment(), n, shim.floatType(), root, shim.commWorld()));
        } finally {
            exit();
        }
    }

    @Override public void allreduceSum(Tensor tensor) {
        checkOpen();
        Communicator.requireHost(tensor, "MPI_Allreduce");
        int n = (int) tensor.elements();
        enter("MPI_Allreduce of ", n, "floats");
        try {
            check("MPI_Allreduce", mpi_h.MPI_Allreduce(mpi_h.MPI_IN_PLACE(), tensor.segment(), n, shim.floatType(), shim.sum(),
                    shim.commWorld()));
        } finally {
            exit();
        }
    }

    @Override public Pending allreduceSumAsync(Tensor tensor) {
        checkOpen();
        Communicator.requireHost(tensor, "MPI_Iallreduce");
        int n = (int) tensor.elements();
        MemorySegment request = freeRequests.isEmpty() ? arena.allocate(ValueLayout.ADDRESS) : freeRequests.pop();
        int rc = mpi_h.MPI_Iallreduce(mpi_h.MPI_IN_PLACE(), tensor.segment(), n, shim.floatType(), shim.sum(), shim.commWorld(),
                request);
        if (rc != mpi_h.MPI_SUCCESS()) {
            freeRequests.push(request);
            check("MPI_Iallreduce", rc);
        }
        return new Request(request, n);
    }

    /** One MPI_Request in flight; its slot goes back to the pool when it completes. */
    private final class Request implements Pending {
        private final MemorySegment slot;
        private final int count;
        private boolean done;

        Request(MemorySegment slot, int count) {
            this.slot = slot;
            this.count = count;
        }

        @Override public boolean test() {
            if (done) return true;
            check("MPI_Test", mpi_h.MPI_Test(slot, flagSlot, mpi_h.MPI_STATUS_IGNORE()));
            if (flagSlot.get(ValueLayout.JAVA_INT, 0) != 0) complete();
            return done;
        }

        @Override public void await() {
            if (done) return;
            enter("MPI_Wait for an MPI_Iallreduce of ", count, "floats");
            try {
                check("MPI_Wait", mpi_h.MPI_Wait(slot, mpi_h.MPI_STATUS_IGNORE()));
            } finally {
                exit();
            }
            complete();
        }

        private void complete() {
            done = true;
            freeRequests.push(slot);
        }
    }

    @Override public void allreduceSum(double[] values) {
        checkOpen();
        MemorySegment buffer = doubles(values.length);
        MemorySegment.copy(values, 0, buffer, ValueLayout.JAVA_DOUBLE, 0, values.length);
        enter("MPI_Allreduce of ", values.length, "doubles");
        try {
            check("MPI_Allreduce", mpi_h.MPI_Allreduce(mpi_h.MPI_IN_PLACE(), buffer, values.length, shim.doubleType(), shim.sum(),
                    shim.commWorld()));
        } finally {
            exit();
        }
        MemorySegment.copy(buffer, ValueLayout.JAVA_DOUBLE, 0, values, 0, values.length);
    }

    @Override public void broadcast(double[] values, int root) {
        checkOpen();
        MemorySegment buffer = doubles(values.length);
        MemorySegment.copy(values, 0, buffer, ValueLayout.JAVA_DOUBLE, 0, values.length);
        enter("MPI_Bcast of ", values.length, "doubles");
        try {
            check("MPI_Bcast", mpi_h.MPI_Bcast(buffer, values.length, shim.doubleType(), root, shim.commWorld()));
        } finally {
            exit();
        }
        MemorySegment.copy(buffer, ValueLayout.JAVA_DOUBLE, 0, values, 0, values.length);
    }

    private MemorySegment doubles(int n) {
        if (doubles.byteSize() < (long) n * Double.BYTES) doubles = arena.allocate(ValueLayout.JAVA_DOUBLE, n);
        return doubles;
    }

    @Override public void barrier() {
        checkOpen();
        enter("MPI_Barrier", -1, "");
        try {
            check("MPI_Barrier", mpi_h.MPI_Barrier(shim.commWorld()));
        } finally {
            exit();
        }
    }

    @Override public void abort(String message, int exitCode) {
        System.out.flush();
        System.err.println(message);
        System.err.flush();
        mpi_h.MPI_Abort(shim.commWorld(), exitCode);
        Runtime.getRuntime().halt(exitCode);   // MPI_Abort does not return; should it, do not linger
    }

    @Override public String describe() {
        return version + ", " + size + " ranks";
    }

    /** Finalises MPI; the process cannot use MPI again afterwards. */
    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        if (watchdog != null) watchdog.close();
        check("MPI_Finalize", mpi_h.MPI_Finalize());
    }

    /** MPI's message for an error code (MPI_Error_string). */
    String errorString(int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment text = a.allocate(mpi_h.MPI_MAX_ERROR_STRING());
            MemorySegment length = a.allocate(ValueLayout.JAVA_INT);
            if (mpi_h.MPI_Error_string(code, text, length) != mpi_h.MPI_SUCCESS()) return "unknown MPI error " + code;
            return text.getString(0);
        }
    }

    private String libraryVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment text = a.allocate(mpi_h.MPI_MAX_LIBRARY_VERSION_STRING());
            MemorySegment length = a.allocate(ValueLayout.JAVA_INT);
            check("MPI_Get_library_version", mpi_h.MPI_Get_library_version(text, length));
            String v = text.getString(0).lines().findFirst().orElse("").strip();
            int comma = v.indexOf(',');   // "Open MPI v4.1.4, package: Debian OpenMPI, ..."
            return comma > 0 ? v.substring(0, comma) : v;
        }
    }

    private void check(String call, int rc) {
        check(call, rc, rank, size);
    }

    private void check(String call, int rc, int rank, int size) {
        if (rc != mpi_h.MPI_SUCCESS()) throw new MpiException(call, rc, errorString(rc), rank, size);
    }

    private void enter(String what, long count, String unit) {
        if (watchdog != null) watchdog.enter(what, count, unit);
    }

    private void exit() {
        if (watchdog != null) watchdog.exit();
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("MPI has been finalised on rank " + rank);
    }
}

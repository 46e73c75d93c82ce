// The main of the ranks that MpiCommunicatorTest starts with mpirun: one scenario per run, each
// rank printing "rank R: ..." lines that the test reads. Exits 0 when its checks pass.
package dev.isthmus.engine.mpi;

import dev.isthmus.engine.Communicator;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;

public final class MpiProbe {
    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        double timeout = args.length > 1 ? Double.parseDouble(args[1]) : 30;
        Communicator comm = Communicator.fromEnvironment(timeout);
        int r = comm.rank(), n = comm.size();
        try {
            switch (scenario) {
                case "collectives" -> collectives(comm);
                case "errors" -> errors(comm);
                case "hang" -> {
                    if (r == n - 1) Thread.sleep(600_000);   // never arrives at the barrier
                    comm.barrier();
                }
                case "throw" -> {
                    try {
                        if (r == 1) throw new IllegalStateException("injected failure on rank 1");
                        comm.barrier();
                    } catch (RuntimeException e) {
                        comm.abort("isthmus rank " + r + " of " + n + " failed: " + e.getMessage() + "; aborting the job", 1);
                    }
                }
                default -> throw new IllegalArgumentException("unknown scenario " + scenario);
            }
        } finally {
            comm.close();
        }
        System.out.println("rank " + r + ": done");
    }

    /** Sums, broadcasts and the non-blocking allreduce against values computed here. */
    static void collectives(Communicator comm) {
        int r = comm.rank(), n = comm.size();
        System.out.println("rank " + r + ": " + comm.describe() + ", thread level " + ((MpiCommunicator) comm).threadLevel());
        int len = 1023;
        try (Tensor t = Tensor.allocate(Shape.of(len), dev.isthmus.engine.DType.F32);
             Tensor big = Tensor.allocate(Shape.of(100_003), dev.isthmus.engine.DType.F32)) {
            for (int i = 0; i < len; i++) t.set(i, (r + 1) * i);
            comm.allreduceSum(t);
            for (int i = 0; i < len; i++) {
                float want = (float) n * (n + 1) / 2 * i;
                if (t.get(i) != want) throw new AssertionError("allreduce[" + i + "] = " + t.get(i) + ", expected " + want);
            }
            for (int i = 0; i < len; i++) t.set(i, r == n - 1 ? -i : 7);
            comm.broadcast(t, n - 1);
            for (int i = 0; i < len; i++) if (t.get(i) != -i) throw new AssertionError("broadcast[" + i + "] = " + t.get(i));
            for (int i = 0; i < big.elements(); i++) big.set(i, r + 0.5f);
            Communicator.Pending p = comm.allreduceSumAsync(big);
            int tests = 0;
            while (!p.test()) tests++;
            p.await();
            float want = n * n / 2f;   // sum of r + 0.5 over r < n
            for (int i = 0; i < big.elements(); i++) if (big.get(i) != want) throw new AssertionError("iallreduce[" + i + "] = " + big.get(i));
            double[] d = {r, 1, 0.25};
            comm.allreduceSum(d);
            if (d[0] != n * (n - 1) / 2.0 || d[1] != n || d[2] != n * 0.25) throw new AssertionError(java.util.Arrays.toString(d));
            double[] b = {r == 0 ? 42.5 : -1};
            comm.broadcast(b, 0);
            if (b[0] != 42.5) throw new AssertionError("double broadcast " + b[0]);
            comm.barrier();
            System.out.println("rank " + r + ": collectives ok (MPI_Test called " + tests + " times before completion)");
        }
    }

    /** MPI errors come back as MpiExceptions naming the call and MPI's message. */
    static void errors(Communicator comm) {
        int r = comm.rank(), n = comm.size();
        try (Tensor t = Tensor.allocate(Shape.of(5), dev.isthmus.engine.DType.F32)) {
            try {
                comm.broadcast(t, n);   // no such root
                throw new AssertionError("MPI_Bcast to root " + n + " did not fail");
            } catch (MpiException e) {
                System.out.println("rank " + r + ": " + e.getMessage());
            }
            try {
                comm.broadcast(new double[2], -3);
                throw new AssertionError("MPI_Bcast to root -3 did not fail");
            } catch (MpiException e) {
                System.out.println("rank " + r + ": " + e.getMessage());
            }
            comm.barrier();   // still usable after the errors
        }
    }
}

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
                case "bench" -> bench(comm, args.length > 2 ? Integer.parseInt(args[2]) : 5);
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

    /**
     * Times the in-place sum allreduce of float tensors of LeNet-5's and AlexNet's gradient sizes
     * and DDP's bucket sizes: the median of {@code reps} after two warm-ups, each timed from a
     * barrier. Rank 0 prints "allreduce BYTES bytes: MEDIAN ms (min MIN ms), BW GB/s algorithm
     * bandwidth" where the algorithm bandwidth is bytes / time.
     */
    static void bench(Communicator comm, int reps) {
        long[] sizes = {61_706, 262_144, 6_553_600, 15_000_000, 61_100_840};   // LeNet-5, 1 MiB, 25 MiB, 60 MB, AlexNet
        for (long n : sizes) {
            try (Tensor t = Tensor.allocate(Shape.of((int) n), dev.isthmus.engine.DType.F32)) {
                t.fill(1f);
                double[] ms = new double[reps];
                for (int i = -2; i < reps; i++) {
                    comm.barrier();
                    long t0 = System.nanoTime();
                    comm.allreduceSum(t);
                    if (i >= 0) ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                java.util.Arrays.sort(ms);
                double median = ms[reps / 2];
                if (comm.rank() == 0) {
                    System.out.printf(java.util.Locale.ROOT, "allreduce %,d bytes: %.2f ms (min %.2f ms), %.2f GB/s algorithm bandwidth%n",
                            n * 4, median, ms[0], n * 4 / median / 1e6);
                }
            }
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

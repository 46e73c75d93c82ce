// The size-1 communicator: no MPI is loaded (this JVM never initialises it), collectives are the
// identity, and the checks MPI's implementation makes fail the same way here.
package dev.isthmus.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SingleProcessCommunicatorTest {

    @Test
    void collectivesAreTheIdentity() {
        try (Communicator c = new SingleProcessCommunicator();
             Tensor t = Tensor.of(new float[] {1, -2, 3.5f}, 3)) {
            assertEquals(0, c.rank());
            assertEquals(1, c.size());
            c.allreduceSum(t);
            c.broadcast(t, 0);
            Communicator.Pending p = c.allreduceSumAsync(t);
            assertTrue(p.test());
            p.await();
            c.barrier();
            assertArrayEquals(new float[] {1, -2, 3.5f}, t.toFloatArray());
            double[] d = {0.5, 7};
            c.allreduceSum(d);
            c.broadcast(d, 0);
            assertArrayEquals(new double[] {0.5, 7}, d);
        }
    }

    @Test
    void badRootsAndClosedUseAreErrors() {
        Communicator c = new SingleProcessCommunicator();
        try (Tensor t = Tensor.of(new float[] {1}, 1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> c.broadcast(t, 1));
            assertEquals("root 1 is not a rank of a 1-process job (only 0)", e.getMessage());
            c.close();
            assertThrows(IllegalStateException.class, () -> c.allreduceSum(t));
        }
    }

    @Test
    void withoutMpirunTheEnvironmentGivesTheSingleProcessCommunicator() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("OMPI_COMM_WORLD_SIZE") == null, "this JVM runs under mpirun");
        try (Communicator c = Communicator.fromEnvironment(10)) {
            assertTrue(c instanceof SingleProcessCommunicator, c.describe());
            assertEquals("1 process (no MPI)", c.describe());
        }
    }
}

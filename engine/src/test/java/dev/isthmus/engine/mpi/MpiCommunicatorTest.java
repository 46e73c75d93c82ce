// Real 2-rank jobs under mpirun: MpiProbe's collectives checked against values computed by each
// rank, MPI's error paths, and the two ways a job must end instead of hanging: a rank that never
// arrives (the watchdog aborts) and a rank that throws (MPI_Abort with its message).
package dev.isthmus.engine.mpi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MpiCommunicatorTest {

    @Test
    void collectivesOverSharedMemory() throws Exception {
        MpiTesting.Run run = MpiTesting.mpirun(2, List.of(), MpiTesting.java(MpiProbe.class, List.of(), "collectives"), 60);
        assertEquals(0, run.exit(), run.output());
        for (int r = 0; r < 2; r++) {
            assertTrue(run.rank(r).contains("rank " + r + ": collectives ok"), run.output());
            assertTrue(run.rank(r).contains("rank " + r + ": Open MPI v"), run.output());
            assertTrue(run.rank(r).contains("thread level 3"), "MPI_THREAD_MULTIPLE granted:\n" + run.output());
        }
    }

    /** The transport that crosses machines: TCP only, no shared memory. */
    @Test
    void collectivesOverTcp() throws Exception {
        MpiTesting.Run run = MpiTesting.mpirun(2, List.of("--mca", "btl", "tcp,self"),
                MpiTesting.java(MpiProbe.class, List.of(), "collectives"), 60);
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.rank(1).contains("rank 1: collectives ok"), run.output());
    }

    @Test
    void mpiErrorsAreExceptionsNamingTheCallAndMpisMessage() throws Exception {
        MpiTesting.Run run = MpiTesting.mpirun(2, List.of(), MpiTesting.java(MpiProbe.class, List.of(), "errors"), 60);
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.rank(0).contains("rank 0: MPI_Bcast failed on rank 0 of 2: MPI_ERR_ROOT: invalid root (error code 8)"),
                run.output());
        assertTrue(run.rank(1).contains("rank 1: MPI_Bcast failed on rank 1 of 2: MPI_ERR_ROOT: invalid root (error code 8)"),
                run.output());
        assertTrue(run.rank(1).contains("rank 1: done"), run.output());
    }

    @Test
    void aRankThatNeverArrivesEndsTheJobThroughTheWatchdog() throws Exception {
        MpiTesting.Run run = MpiTesting.mpirun(2, List.of(), MpiTesting.java(MpiProbe.class, List.of(), "hang", "2"), 60);
        assertNotEquals(0, run.exit(), run.output());
        assertTrue(run.rank(0).contains("isthmus rank 0 of 2: MPI_Barrier has not completed after"), run.output());
        assertTrue(run.seconds() < 30, "the job took " + run.seconds() + " s to end:\n" + run.output());
    }

    @Test
    void aRankThatThrowsEndsTheJobWithItsMessage() throws Exception {
        MpiTesting.Run run = MpiTesting.mpirun(2, List.of(), MpiTesting.java(MpiProbe.class, List.of(), "throw", "60"), 60);
        assertNotEquals(0, run.exit(), run.output());
        assertTrue(run.rank(1).contains("isthmus rank 1 of 2 failed: injected failure on rank 1; aborting the job"), run.output());
        assertTrue(run.seconds() < 30, "the job took " + run.seconds() + " s to end:\n" + run.output());
    }
}

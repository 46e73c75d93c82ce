// Real 2-rank data-parallel jobs (mpirun -np 2 --oversubscribe --bind-to none, one thread per
// rank) of DataParallelProbe, against the same training in one process:
// - equivalence: 2 ranks x batch 32 give the weights of 1 process x batch 64 after 100 steps,
//   within 1e-5 relative (max |a - b| / max |b|), on dnnl (simd: 40 steps, to keep CI short);
//   once over TCP only (30 steps);
// - the ranks start from different seeds and rank 0's broadcast makes them equal;
// - a rank killed (SIGKILL) mid-epoch ends the job within seconds, mpirun naming the rank and the
//   signal, and the last checkpoint loads; resumed in 1 process it ends where 1 process would.
package dev.isthmus.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.mpi.Mpirun;
import dev.isthmus.engine.mpi.MpiTesting;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DataParallelTest {
    static final List<String> ONE_THREAD = List.of(Mpirun.jvmThreadsFlag(1));

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = BackendKind.class, names = {"DNNL", "SIMD"})
    void twoRanksOfBatch32TrainLikeOneProcessOfBatch64(BackendKind kind) throws Exception {
        String backend = "backend=" + kind.cliName();
        Path one = dir.resolve("one.bin"), two = dir.resolve("two.bin");
        int steps = kind == BackendKind.DNNL ? 100 : 40;   // simd is slower: fewer steps keep CI short (100 in bench/RESULTS.md)
        String reference = alone(backend, "batch=64", "steps=" + steps, "out=" + one);
        MpiTesting.Run run = MpiTesting.mpirun(2, List.of(), probe(backend, "batch=64", "steps=" + steps, "seedPerRank=true",
                "out=" + two, "report=" + dir), 180);
        assertEquals(0, run.exit(), run.output());
        assertClose(kind + ": 2 x 32 against 1 x 64 after " + steps + " steps", read(one), read(two), 1e-5);
        assertBroadcastEqualised(Files.readString(dir.resolve("rank-0.txt")) + Files.readString(dir.resolve("rank-1.txt")));
        // The test set evaluated in two shards and reduced: the 1-process error, digit for digit.
        assertEquals(testError(reference), testError(Files.readString(dir.resolve("rank-0.txt"))), "test error, 1 process against 2 ranks");
    }

    /** The transport that crosses machines, once: the same result as shared memory gives. */
    @Test
    void overTcpOnly() throws Exception {
        Path one = dir.resolve("one.bin"), two = dir.resolve("two.bin");
        alone("batch=64", "steps=30", "out=" + one);
        MpiTesting.Run run = MpiTesting.mpirun(2, List.of("--mca", "btl", "tcp,self"), probe("batch=64", "steps=30", "out=" + two), 180);
        assertEquals(0, run.exit(), run.output());
        assertClose("over tcp: 2 x 32 against 1 x 64 after 30 steps", read(one), read(two), 1e-5);
    }

    @Test
    void aKilledRankEndsTheJobAndItsLastCheckpointResumesInOneProcess() throws Exception {
        Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
        Path reference = dir.resolve("reference.bin"), resumed = dir.resolve("resumed.bin");
        // 3 epochs of 8 steps; rank 1 is killed at step 20, in epoch 3.
        MpiTesting.Run run = MpiTesting.mpirun(2, List.of(), probe("batch=64", "steps=8", "epochs=3", "checkpoints=" + checkpoints,
                "failAt=20:kill"), 120);
        assertNotEquals(0, run.exit(), run.output());
        assertTrue(run.rank(1).contains("rank 1: dying at step 20 (SIGKILL)"), run.output());
        assertTrue(Pattern.compile("process rank 1 with PID \\d+ on node \\S+ exited on signal 9").matcher(run.output()).find(),
                "mpirun should name the rank and the signal:\n" + run.output());
        assertTrue(run.seconds() < 60, "the job took " + run.seconds() + " s to end:\n" + run.output());
        Path last = checkpoints.resolve("epoch-2.safetensors");
        assertTrue(Files.exists(last), "the checkpoint of epoch 2 is missing: " + List.of(checkpoints.toFile().list()));
        assertTrue(!Files.exists(checkpoints.resolve("epoch-3.safetensors")), "epoch 3 cannot have finished");
        try (Backend backend = Backends.create(BackendKind.DNNL);
             Sequential model = LeNet5.classic().compile(backend, 4, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 0)) {
            assertEquals("2", Checkpoint.load(last, model, null).get("epoch"));
        }
        alone("batch=64", "steps=8", "epochs=3", "out=" + reference);
        alone("batch=64", "steps=8", "epochs=3", "resume=" + last, "out=" + resumed);
        assertClose("2 ranks for 2 epochs then 1 process for the third, against 1 process throughout", read(reference), read(resumed), 1e-5);
    }

    // ---- helpers

    static List<String> probe(String... args) {
        return MpiTesting.java(DataParallelProbe.class, ONE_THREAD, args);
    }

    /** The probe in this machine's one process, one thread: no mpirun, the single-process communicator. */
    static String alone(String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(probe(args)).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "the 1-process run did not finish:\n" + out);
        assertEquals(0, p.exitValue(), String.join(" ", args) + ":\n" + out);
        return out;
    }

    static String testError(String output) {
        Matcher m = Pattern.compile("rank 0: epoch 1 loss \\S+ test error (\\S+)").matcher(output);
        assertTrue(m.find(), output);
        return m.group(1);
    }

    /** Rank 1 began with other weights than rank 0 and ended the broadcast with rank 0's. */
    static void assertBroadcastEqualised(String output) {
        Matcher m = Pattern.compile("rank (\\d): weights crc (\\w+) before the broadcast, (\\w+) after").matcher(output);
        Map<Integer, String[]> crcs = new java.util.HashMap<>();
        while (m.find()) crcs.put(Integer.parseInt(m.group(1)), new String[] {m.group(2), m.group(3)});
        assertEquals(2, crcs.size(), output);
        assertNotEquals(crcs.get(0)[0], crcs.get(1)[0], "seedPerRank: the ranks should start from different weights\n" + output);
        assertEquals(crcs.get(0)[0], crcs.get(0)[1], output);
        assertEquals(crcs.get(0)[0], crcs.get(1)[1], "after the broadcast rank 1 holds rank 0's weights\n" + output);
    }

    static float[] read(Path file) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] w = new float[b.remaining() / 4];
        b.asFloatBuffer().get(w);
        return w;
    }

    /** max |actual - expected| / max |expected| within {@code tolerance}; a failure lists the first differing values. */
    static void assertClose(String what, float[] expected, float[] actual, double tolerance) {
        assertEquals(expected.length, actual.length, what + ": parameter counts");
        double scale = 0, worst = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        List<String> first = new ArrayList<>();
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            worst = Math.max(worst, d);
            if (d > tolerance * scale && first.size() < 8) first.add("[" + i + "] " + expected[i] + " vs " + actual[i]);
        }
        System.out.printf("%s: max |difference| / max |weight| = %.3g%n", what, worst / scale);
        assertTrue(worst <= tolerance * scale, what + ": max |difference| " + worst + " over max |weight| " + scale + " exceeds "
                + tolerance + ":\n" + String.join("\n", first));
    }
}

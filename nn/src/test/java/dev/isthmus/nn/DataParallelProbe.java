// The main of the ranks that DataParallelTest starts (with mpirun, or alone as the 1-process
// reference): LeNet-5 trained through Trainer.fit with DataParallel on a seeded synthetic
// MNIST-sized data set, rank 0 writing a checkpoint after every epoch and the final weights.
//
//   key=value arguments: backend=dnnl|simd batch=GLOBAL steps=PER_EPOCH epochs=E
//   out=FILE (final weights, raw floats) [checkpoints=DIR] [resume=FILE] [seedPerRank=true]
//   [failAt=STEP:kill|throw] (rank 1 dies at that global step: SIGKILL, or an exception)
//   [report=DIR] (each rank writes its broadcast line to DIR/rank-R.txt)
package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Communicator;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.testing.TestTensors;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.CRC32;

public final class DataParallelProbe {
    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String s : argv) a.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
        Communicator comm = Communicator.fromEnvironment(Double.parseDouble(a.getOrDefault("timeout", "30")));
        int rank = comm.rank(), ranks = comm.size();
        try {
            run(a, comm);
        } catch (Exception | Error e) {
            comm.abort("isthmus rank " + rank + " of " + ranks + " failed: " + e.getMessage() + "; aborting the job", 1);
        }
        comm.close();
    }

    static void run(Map<String, String> a, Communicator comm) throws Exception {
        int rank = comm.rank(), ranks = comm.size();
        BackendKind kind = BackendKind.valueOf(a.getOrDefault("backend", "dnnl").toUpperCase(Locale.ROOT));
        int global = Integer.parseInt(a.getOrDefault("batch", "64"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "100"));
        int epochs = Integer.parseInt(a.getOrDefault("epochs", "1"));
        if (global % ranks != 0) throw new IllegalArgumentException("batch " + global + " is not a multiple of " + ranks + " ranks");
        int local = global / ranks;
        long seed = 7 + (Boolean.parseBoolean(a.getOrDefault("seedPerRank", "false")) ? rank : 0);
        int n = global * steps;
        float[] images = TestTensors.uniform(11, n * 32 * 32, -0.1f, 1.175f);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = (int) ((i * 2654435761L >>> 7) % 10);
        Path checkpoints = a.containsKey("checkpoints") ? Path.of(a.get("checkpoints")) : null;
        try (ImageDataset data = ImageDataset.copyOf("synthetic", 1, 32, 32, images, labels);
             ImageDataset test = data.subset(Math.min(n, 1000));
             Backend backend = Backends.create(kind);
             Sequential model = LeNet5.classic().compile(backend, local, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, seed);
             SGD sgd = new SGD(model.parameters(), 0.05f, 0.9f, 5e-4f, false);
             Trainer trainer = new Trainer(model, sgd, Progress.silent());
             BatchLoader loader = new BatchLoader(data, data.indices(), local, 5, true, true, null, 1, rank, ranks)) {
            DataParallel dp = new DataParallel(comm, model, 0, 0);   // one bucket per layer: many overlapping allreduces
            trainer.dataParallel(dp);
            int start = 0;
            if (a.containsKey("resume")) {
                if (rank == 0) {
                    Map<String, String> meta = Checkpoint.load(Path.of(a.get("resume")), model, sgd);
                    start = Integer.parseInt(meta.get("epoch"));
                    sgd.setLr(Float.parseFloat(meta.get(Checkpoint.LR)));
                }
                start = dp.broadcastInt(start);
            }
            long before = crc(model);
            dp.broadcastFromRoot(sgd);
            String line = String.format("rank %d: weights crc %08x before the broadcast, %08x after; %s%n", rank, before, crc(model),
                    dp.describe());
            System.out.print(line);
            // Two ranks' lines may interleave in mpirun's output: the test reads each rank's own file.
            if (a.containsKey("report")) Files.writeString(Path.of(a.get("report"), "rank-" + rank + ".txt"), line);
            String failAt = a.get("failAt");
            if (failAt != null && rank == 1) {
                long at = Long.parseLong(failAt.split(":")[0]);
                boolean kill = failAt.endsWith(":kill");
                dp.onStep(step -> {
                    if (sgd.steps() + 1 < at) return;
                    System.out.println("rank 1: dying at step " + at + (kill ? " (SIGKILL)" : " (exception)"));
                    System.out.flush();
                    if (!kill) throw new IllegalStateException("injected failure at step " + at);
                    try {
                        new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid())).start().waitFor();
                        Thread.sleep(60_000);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
            var options = new Trainer.Options(epochs, 0, LrSchedule.stepDecay(1, 0.7f), false);
            trainer.fit(loader, null, () -> trainer.evaluate(test, test.indices()), options, start, stats -> {
                if (checkpoints != null) {
                    Checkpoint.save(checkpoints.resolve("epoch-" + stats.epoch() + ".safetensors"), model, sgd,
                            Map.of("epoch", Integer.toString(stats.epoch())));
                }
                String epochLine = String.format(Locale.ROOT, "rank %d: epoch %d loss %.6f test error %.4f%n", rank, stats.epoch(),
                        stats.trainLoss(), stats.testError());
                System.out.print(epochLine);
                if (a.containsKey("report")) {
                    Files.writeString(Path.of(a.get("report"), "rank-" + rank + ".txt"), epochLine, java.nio.file.StandardOpenOption.APPEND);
                }
            });
            if (rank == 0 && a.containsKey("out")) {
                float[] w = model.parameters().values().toFloatArray();
                ByteBuffer b = ByteBuffer.allocate(w.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(w);
                Files.write(Path.of(a.get("out")), b.array());
            }
            System.out.printf(Locale.ROOT, "rank %d: done after %d steps, exposed communication %.3f ms per step%n", rank, sgd.steps(),
                    dp.exposedSecondsPerStep() * 1e3);
        }
    }

    static long crc(Sequential model) {
        CRC32 c = new CRC32();
        c.update(model.parameters().values().segment().asByteBuffer());
        return c.getValue();
    }
}

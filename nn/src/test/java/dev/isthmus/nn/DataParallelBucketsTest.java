// DataParallel's gradient buckets (DDP's recipe): whole layers in reverse order, a first bucket
// of at least 1 MiB then at least 25 MiB each (or the rest), contiguous, together the whole
// gradient slab exactly once; and with one rank (no MPI) training is untouched.
package dev.isthmus.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.SingleProcessCommunicator;
import java.util.List;
import org.junit.jupiter.api.Test;

class DataParallelBucketsTest {

    @Test
    void bucketsAreWholeLayersInReverseOrderCoveringTheSlabOnce() {
        // Linear parameters: 300x1000 + 300 (1.2 MB), 2000x300 + 2000 (2.4 MB), 7000x2000 + 7000 (56 MB), 10x7000 + 10.
        try (Backend backend = Backends.create(BackendKind.SIMD);
             Sequential model = new Sequential(new Linear(1000, 300), new ReLU(), new Linear(300, 2000), new ReLU(),
                     new Linear(2000, 7000), new ReLU(), new Linear(7000, 10))
                     .compile(backend, 1, Shape.of(1000), Sequential.Mode.TRAIN, 1)) {
            List<DataParallel.Bucket> b = DataParallel.buckets(model, DataParallel.FIRST_BUCKET_BYTES, DataParallel.BUCKET_BYTES);
            // Reverse order: fc 6 (70 K floats) alone is under 1 MiB, so fc 6 and fc 4 (14 M floats) fill the first bucket;
            // fc 2 and fc 0 (0.9 M floats, 3.6 MB) are the rest.
            assertEquals(List.of(new DataParallel.Bucket(4, 6, 300_300 + 602_000, 14_007_000 + 70_010),
                    new DataParallel.Bucket(0, 2, 0, 300_300 + 602_000)), b);
            List<DataParallel.Bucket> perLayer = DataParallel.buckets(model, 0, 0);
            assertEquals(4, perLayer.size());
            long end = model.parameters().count();
            for (DataParallel.Bucket x : perLayer) {
                assertEquals(x.firstLayer(), x.lastLayer(), "one layer per bucket");
                assertEquals(end, x.offset() + x.elements(), "buckets are contiguous, last layers first");
                end = x.offset();
            }
            assertEquals(0, end, "the buckets cover the slab");
        }
    }

    @Test
    void withOneRankTheTrainerTrainsAsWithout() {
        float[] alone = LeNetSteps.train(null), withOne = LeNetSteps.train(new SingleProcessCommunicator());
        assertTrue(java.util.Arrays.equals(alone, withOne), "a 1-rank DataParallel changed the weights");
    }

    /** A few seeded LeNet-5 steps through Trainer.fit, with or without a DataParallel. */
    static final class LeNetSteps {
        static float[] train(dev.isthmus.engine.Communicator comm) {
            int n = 16 * 6;
            float[] images = dev.isthmus.engine.testing.TestTensors.uniform(3, n * 1024, -0.1f, 1.175f);
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = i % 10;
            try (var data = dev.isthmus.nn.data.ImageDataset.copyOf("steps", 1, 32, 32, images, labels);
                 Backend backend = Backends.create(BackendKind.DNNL);
                 Sequential model = LeNet5.classic().compile(backend, 16, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 2);
                 SGD sgd = new SGD(model.parameters(), 0.05f, 0.9f, 5e-4f, false);
                 Trainer trainer = new Trainer(model, sgd, Progress.silent());
                 var loader = new dev.isthmus.nn.data.BatchLoader(data, data.indices(), 16, 4, true, true, null)) {
                if (comm != null) trainer.dataParallel(new DataParallel(comm, model));
                trainer.fit(loader, null, () -> trainer.evaluate(data, data.indices()), new Trainer.Options(1, 0, LrSchedule.constant(), true), 0, null);
                return model.parameters().values().toFloatArray();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}

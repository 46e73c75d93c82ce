package dev.isthmus.nn;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14's probes of silent wrong results, each refused now with the file, the key or the
 * tensor named (each failed before: NaN weights evaluated to "top-5 error 0.00%", an RMSProp
 * checkpoint resumed under SGD became its momentum, a training set smaller than a batch trained
 * 0 steps, an empty test set trained a whole epoch, batch 1,000,000 asked for 18.8 GB).
 */
class NumbersCannotLieTest {
    @TempDir Path dir;

    private static Sequential lenet(Backend backend, int batch) {
        return LeNet5.relu().compile(backend, batch, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 5);
    }

    @Test
    void nanWeightsAreRefusedNamingTheTensor() throws Exception {
        Path file = dir.resolve("nan.safetensors");
        try (Backend b = Backends.create(BackendKind.REFERENCE); Sequential m = lenet(b, 2)) {
            float[] w = m.parameters().get("c3.weight").value().toFloatArray();
            w[17] = Float.NaN;
            m.parameters().get("c3.weight").value().copyFrom(w);
            Checkpoint.save(file, m, null, Map.of());
            var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(file, m, null));
            assertEquals(file + ": tensor 'c3.weight' holds NaN at element 17 of 2400, expected finite weights "
                    + "(the run that wrote it diverged, or the file is damaged)", e.getMessage());
        }
    }

    @Test
    void anotherOptimizersStateIsRefusedNamingBoth() throws Exception {
        Path file = dir.resolve("rmsprop.safetensors");
        try (Backend b = Backends.create(BackendKind.REFERENCE); Sequential m = lenet(b, 2)) {
            try (Optimizer rms = new RMSProp(m.parameters(), 0.01f)) {
                Checkpoint.save(file, m, rms, Map.of("epoch", "1"));
            }
            try (Optimizer sgd = new SGD(m.parameters(), 0.01f, 0.9f, 0f, false)) {
                var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(file, m, sgd));
                assertTrue(e.getMessage().startsWith(file + ": key optimizer.name is rmsprop in the checkpoint, this run has sgd"),
                        e.getMessage());
            }
            try (Optimizer rms = new RMSProp(m.parameters(), 0.01f, 0.9f, 1e-8f, 0f, 0f)) {
                var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(file, m, rms));
                assertTrue(e.getMessage().startsWith(file + ": key optimizer.alpha is 0.99 in the checkpoint, this run has 0.9"),
                        e.getMessage());
            }
            try (Optimizer rms = new RMSProp(m.parameters(), 0.01f)) {
                assertEquals("1", Checkpoint.load(file, m, rms).get("epoch"));   // the same optimizer resumes
            }
        }
    }

    @Test
    void badMetadataValuesNameTheFileAndTheKey() {
        Path f = Path.of("run/model.safetensors");
        var e = assertThrows(IllegalArgumentException.class, () -> CheckpointKeys.nonNegativeInt(f, Map.of("epoch", "abc"), "epoch", 0));
        assertEquals("run/model.safetensors: metadata key 'epoch' is \"abc\", expected an integer >= 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CheckpointKeys.positiveFloat(f, Map.of("optimizer.lr", "-Infinity"), "optimizer.lr"));
        assertEquals("run/model.safetensors: metadata key 'optimizer.lr' is \"-Infinity\", expected a finite number > 0", e.getMessage());
        assertEquals(3, CheckpointKeys.nonNegativeInt(f, Map.of("epoch", "3"), "epoch", 0));
    }

    @Test
    void aCheckpointThatDoesNotFitNamesTheFirstTensorOnTheFirstLine() throws Exception {
        Path file = dir.resolve("other.safetensors");
        try (Backend b = Backends.create(BackendKind.REFERENCE); Sequential m = lenet(b, 2)) {
            Safetensors.write(file, Map.of("c1.weight", Safetensors.Entry.ofFloats(new float[3], new long[] {3})), Map.of());
            var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(file, m, null));
            String first = e.getMessage().lines().findFirst().orElseThrow();
            assertTrue(first.startsWith(file + " does not fit the model: c1.bias: missing from file"), first);
            assertTrue(first.endsWith("more):"), first);
        }
    }

    @Test
    void aTrainingSetSmallerThanOneBatchIsRefusedBeforeTraining() throws Exception {
        ImageDataset data = ImageDataset.copyOf("tiny", 1, 32, 32, new float[3 * 32 * 32], new int[] {1, 2, 3});
        try (Backend b = Backends.create(BackendKind.REFERENCE); Sequential m = lenet(b, 4);
             Optimizer sgd = new SGD(m.parameters(), 0.01f);
             Trainer t = new Trainer(m, sgd, Progress.silent());
             BatchLoader loader = new BatchLoader(data, data.indices(), 4, 1, true, true, null)) {
            var e = assertThrows(IllegalArgumentException.class, () -> t.fit(loader, data, new int[0], null,
                    new Trainer.Options(1, 0, LrSchedule.constant(), false), 0, s -> {}));
            assertEquals("the training set has 3 images, fewer than one batch of 4: no training step would run; give a smaller --batch or more data",
                    e.getMessage());
            ImageDataset empty = ImageDataset.copyOf("empty", 1, 32, 32, new float[0], new int[0]);
            e = assertThrows(IllegalArgumentException.class, () -> t.fit(loader, data, new int[0], empty,
                    new Trainer.Options(1, 0, LrSchedule.constant(), false), 0, s -> {}));
            assertEquals("the test set is empty (0 images): no test error to measure", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> t.evaluate(empty, empty.indices()));
            assertEquals("cannot evaluate on an empty set (0 of 0 images)", e.getMessage());
        }
    }

    @Test
    void aCompileBeyondTheMemoryLimitIsRefusedBeforeAllocating() {
        try (Backend b = Backends.create(BackendKind.REFERENCE)) {
            Sequential m = LeNet5.classic();
            var e = assertThrows(IllegalArgumentException.class,
                    () -> m.compile(b, 1_000_000, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 1));
            assertTrue(e.getMessage().startsWith("compiling for batch 1000000 needs about "), e.getMessage());
            assertTrue(e.getMessage().contains("largest: layer 'c1' output [1000000, 6, 28, 28] and its gradient 35.0 GiB"), e.getMessage());
            assertTrue(!m.isCompiled(), "nothing compiled");
        }
        String old = System.getProperty(MemoryBudget.PROPERTY);
        try {
            System.setProperty(MemoryBudget.PROPERTY, "1m");
            try (Backend b = Backends.create(BackendKind.REFERENCE)) {
                var e = assertThrows(IllegalArgumentException.class,
                        () -> LeNet5.classic().compile(b, 64, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 1));
                assertTrue(e.getMessage().contains("over the limit of 1.0 MiB (-Disthmus.memory.limit=1m)"), e.getMessage());
            }
            System.setProperty(MemoryBudget.PROPERTY, "lots");
            var e = assertThrows(IllegalArgumentException.class, MemoryBudget::limit);
            assertTrue(e.getMessage().startsWith("system property isthmus.memory.limit is \"lots\""), e.getMessage());
        } finally {
            if (old == null) System.clearProperty(MemoryBudget.PROPERTY); else System.setProperty(MemoryBudget.PROPERTY, old);
        }
        assertEquals(8L << 30, MemoryBudget.parse("8g"));
    }
}

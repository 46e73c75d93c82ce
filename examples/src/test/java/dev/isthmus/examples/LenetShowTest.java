package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.dnnl.DnnlBackend;
import dev.isthmus.nn.Checkpoint;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.Progress;
import dev.isthmus.nn.Adam;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.Trainer;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.Mnist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** `lenet show` on a LeNet-5 trained here for 400 steps on an MNIST subset (from ../shared/data/mnist). */
class LenetShowTest {
    @TempDir static Path dir;
    private static Path mnistDir, checkpoint;
    private static Mnist mnist;

    @BeforeAll
    static void trainTinyModel() throws Exception {
        String shared = System.getProperty("isthmus.shared.dir");
        mnistDir = shared == null ? null : Path.of(shared, "data", "mnist");
        assumeTrue(mnistDir != null && Files.isDirectory(mnistDir), "MNIST not found at " + mnistDir + " (../shared/data/mnist)");
        mnist = Mnist.load(mnistDir);
        checkpoint = dir.resolve("tiny/model.safetensors");
        Files.createDirectories(checkpoint.getParent());
        ImageDataset train = mnist.train().subset(12_800);
        try (Backend backend = new DnnlBackend(); Sequential model = LeNet5.classic()) {
            model.compile(backend, 32, Shape.of(1, 32, 32), Sequential.Mode.TRAIN, 7);
            try (var sgd = new Adam(model.parameters(), 0.001f, 0.9f, 0.999f, 1e-8f, 0f, false);
                 var trainer = new Trainer(model, sgd, Progress.silent());
                 var loader = new BatchLoader(train, train.indices(), 32, 7, true, true, null)) {
                trainer.trainEpoch(loader, 1, 1); // 400 steps
                Checkpoint.save(checkpoint, model, sgd, Map.of("variant", "classic", "model", "LeNet-5"));
            }
        }
    }

    @AfterAll
    static void close() {
        if (mnist != null) mnist.close();
    }

    @Test
    void accuracyWithoutTransformationEqualsThePlainTestAccuracy() throws Exception {
        int[] some = Arrays.copyOf(mnist.test().indices(), 600);
        try (Backend backend = new DnnlBackend(); Sequential model = LeNet5.classic()) {
            model.compile(backend, 200, Shape.of(1, 32, 32), Sequential.Mode.INFERENCE, 0);
            Checkpoint.load(checkpoint, model, null);
            try (Trainer evaluator = new Trainer(model, null, Progress.silent())) {
                double plain = 1 - evaluator.evaluate(mnist.test(), some).top1Error();
                assertTrue(plain > 0.5, "400 Adam steps should reach well above chance, got " + plain);
                List<LenetShow.Row> rows = LenetShow.invariance(evaluator, mnist.test(), some, 1);
                assertEquals(List.of("shift", "rotation", "scale", "salt-and-pepper", "gaussian-noise"),
                        rows.stream().map(r -> r.transform().name()).toList());
                for (LenetShow.Row r : rows) {
                    int identity = -1;
                    for (int i = 0; i < r.levels().length; i++) {
                        double level = r.levels()[i];
                        if (r.transform().name().equals("scale") ? level == 1 : level == 0) identity = i;
                    }
                    assertTrue(identity >= 0, r.transform().name() + " has no identity level");
                    assertEquals(plain, r.accuracy()[identity], 0.0, r.transform().name() + " at its identity level");
                }
                LenetShow.Row shift = rows.getFirst();
                assertEquals(13, shift.levels().length);
                assertTrue(shift.accuracy()[0] < plain && shift.accuracy()[12] < plain,
                        "a 6-pixel shift should cost accuracy: " + Arrays.toString(shift.accuracy()));
                String table = LenetShow.invarianceTable(rows, plain, some.length, "tiny");
                assertTrue(table.contains(String.format(java.util.Locale.ROOT, "plain test accuracy %.2f%%", 100 * plain)), table);
                assertTrue(table.contains("  level       -6 px   -5 px"), table);
            }
        }
    }

    @Test
    void badDigitListIsAUsageError() {
        // The whole command (figures, 43 passes over the 10,000 test digits) is left to the command line: minutes on 2 cores.
        MainTest.Result r;
        r = MainTest.run("lenet", "show", "--checkpoint", checkpoint.toString(), "--digits", "3,x");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("isthmus lenet: --digits: expected integers in [0, 9] separated by commas, got 'x'"), r.err());
    }
}

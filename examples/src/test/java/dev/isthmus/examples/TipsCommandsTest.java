package dev.isthmus.examples;

import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The lecture's tips as commands, on small MNIST subsets (seconds each): `lenet --diagnose` quiet on
 * the defaults and naming the problem at --lr 2 in the first epoch, `lenet lr-find`, `lenet search`,
 * and the unusual digits of `lenet show`.
 */
class TipsCommandsTest {
    @TempDir static Path dir;
    private static Path mnist;

    @BeforeAll
    static void locate() {
        String shared = System.getProperty("isthmus.shared.dir");
        mnist = shared == null ? null : Path.of(shared, "data", "mnist");
    }

    private static void needMnist() {
        assumeTrue(mnist != null && Files.isDirectory(mnist), "MNIST not found at " + mnist + " (../shared/data/mnist)");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> json(Path file) throws Exception {
        return (Map<String, Object>) Json.read(Files.readString(file));
    }

    @Test
    void diagnoseIsQuietOnTheDefaultsAndNamesALearningRateOfTwo() throws Exception {
        needMnist();
        var quiet = MainTest.run("lenet", "--diagnose", "--epochs", "1", "--limit", "2048", "--data", mnist.toString(),
                "--out", dir.resolve("quiet").toString());
        assertEquals(0, quiet.code(), quiet.err());
        assertFalse(quiet.out().contains("  diagnostics: "), quiet.out());   // warnings; "  (diagnostics: ..." is the cost line
        assertTrue(quiet.out().contains("  (diagnostics: "), quiet.out());
        assertTrue(Files.size(dir.resolve("quiet/diagnostics.png")) > 1000);
        Map<String, Object> d = (Map<String, Object>) json(dir.resolve("quiet/metrics.json")).get("diagnostics");
        List<Object> epochs = (List<Object>) d.get("epochs");
        assertEquals(1, epochs.size());
        assertEquals(List.of(), ((Map<String, Object>) epochs.getFirst()).get("warnings"));

        var loud = MainTest.run("lenet", "--diagnose", "--lr", "2", "--epochs", "1", "--limit", "2048", "--data", mnist.toString(),
                "--out", dir.resolve("loud").toString());
        assertTrue(loud.out().contains("diagnostics: c1: ") && loud.out().contains("in epoch 1")
                && loud.out().contains("the learning rate is too large"), loud.out() + loud.err());
    }

    @Test
    void lrFindWritesItsCurveAndSuggestsARate() throws Exception {
        needMnist();
        Path out = dir.resolve("lr");
        var r = MainTest.run("lenet", "lr-find", "--variant", "relu", "--steps", "120", "--limit", "4096", "--data",
                mnist.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("suggested lr ") && r.out().contains("the default is 0.0500"), r.out());
        Map<String, Object> j = json(out.resolve("lr-find.json"));
        assertEquals((Double) j.get("min_lr") / 10, (Double) j.get("suggested_lr"), 1e-12);
        assertTrue(Files.size(out.resolve("lr-find.png")) > 1000);
    }

    @Test
    void gridHasEveryCombination() {
        var defaults = new LenetSearch.Combination(0.05f, 32, 0.9f, 5e-4f, LeNet5.Sizes.DEFAULT);
        var grid = LenetSearch.parseGrid("lr=0.01,0.05,0.1 batch=32,64 c3=16,32 f6=84,120", defaults);
        assertEquals(24, grid.size());
        assertEquals(new LenetSearch.Combination(0.01f, 32, 0.9f, 5e-4f, new LeNet5.Sizes(6, 16, 120, 84)), grid.get(0));
        assertEquals(new LenetSearch.Combination(0.01f, 32, 0.9f, 5e-4f, new LeNet5.Sizes(6, 16, 120, 120)), grid.get(1));
        assertEquals(new LenetSearch.Combination(0.1f, 64, 0.9f, 5e-4f, new LeNet5.Sizes(6, 32, 120, 120)), grid.get(23));
        var e = assertThrows(Args.UsageError.class, () -> LenetSearch.parseGrid("lr=0.1 depth=3", defaults));
        assertTrue(e.getMessage().contains("got 'depth=3'"), e.getMessage());
        assertThrows(Args.UsageError.class, () -> LenetSearch.parseGrid("c3=0", defaults));
    }

    @Test
    @SuppressWarnings("unchecked")
    void searchRanksTrialsByValidationErrorAndTestsTheBestOnce() throws Exception {
        needMnist();
        Path out = dir.resolve("search");
        var r = MainTest.run("lenet", "search", "--grid", "lr=0.1,0.2 f6=40", "--variant", "relu", "--epochs", "1",
                "--validation", "500", "--limit", "2000", "--final-epochs", "1", "--data", mnist.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> j = json(out.resolve("search.json"));
        List<Map<String, Object>> trials = (List<Map<String, Object>>) (List<?>) j.get("trials");
        assertEquals(2, trials.size());
        assertTrue((Double) trials.get(0).get("validation_error") <= (Double) trials.get(1).get("validation_error"), trials.toString());
        assertEquals(40L, trials.get(0).get("f6"));
        assertEquals(1500L, j.get("train_digits"));
        Map<String, Object> fin = (Map<String, Object>) j.get("final");
        assertTrue((Double) fin.get("test_error") < 0.5, fin.toString());
        assertTrue(r.out().contains("best combination retrained: test error"), r.out());
        assertTrue(Files.exists(out.resolve("model.safetensors")));
    }

    @Test
    void unusualDigitsHaveTheirStyles() {
        var all = UnusualDigits.all(1);
        assertEquals(70, all.size());
        assertEquals(all.stream().map(d -> d.style() + "" + d.label()).toList(),
                UnusualDigits.all(1).stream().map(d -> d.style() + "" + d.label()).toList());
        for (int d = 0; d <= 9; d++) {
            double plain = ink(UnusualDigits.render(d, UnusualDigits.Style.PLAIN, 1));
            double thin = ink(UnusualDigits.render(d, UnusualDigits.Style.THIN, 1));
            double thick = ink(UnusualDigits.render(d, UnusualDigits.Style.THICK, 1));
            double dotted = ink(UnusualDigits.render(d, UnusualDigits.Style.DOTTED, 1));
            assertTrue(thin > 5 && thin < plain && plain < thick, d + ": thin " + thin + " plain " + plain + " thick " + thick);
            assertTrue(dotted > 5 && dotted < plain, d + ": dotted " + dotted);
            float[] p = UnusualDigits.render(d, UnusualDigits.Style.PLAIN, 1), c = UnusualDigits.render(d, UnusualDigits.Style.CLUTTER, 1);
            for (int i = 0; i < p.length; i++) assertTrue(c[i] >= p[i], "clutter only adds ink");
        }
        // outlined: the middle of a stroke is background, its rim is ink (the vertical of a 1)
        // at row 16 the stroke's centre line is at x = 9 + 0.55 * 14 = 16.7: pixel 16 lies on it, pixel 18 on the rim
        float[] one = UnusualDigits.render(1, UnusualDigits.Style.OUTLINED, 1);
        assertEquals(-0.1f, one[16 * 32 + 16], 1e-6f, "the inside of the outline");
        assertTrue(one[16 * 32 + 18] > 0.5f, "the rim: " + one[16 * 32 + 18]);
    }

    /** Ink in pixels: the sum of (value - background) / (ink - background). */
    private static double ink(float[] image) {
        double s = 0;
        for (float v : image) s += (v + 0.1) / 1.275;
        return s;
    }
}

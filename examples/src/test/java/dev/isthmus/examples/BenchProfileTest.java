package dev.isthmus.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `isthmus bench profile` on a few simd steps: every layer and pass in the table, the check printed, JFR events written; bad flags refused. No timing asserted. */
class BenchProfileTest {
    private record Run(int code, String out, String err) {}

    private static Run run(String... argv) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), false);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test void lenetTrainingTableHasEveryPassAndTheCheck(@TempDir Path dir) throws Exception {
        Path jfr = dir.resolve("steps.jfr");
        Run r = run("bench", "profile", "--model", "lenet", "--backend", "simd", "--batch", "4", "--steps", "3", "--warmup-steps", "1",
                "--jfr", jfr.toString());
        assertEquals(0, r.code(), r.err());
        for (String row : List.of("c1+c1_act  conv2d", "c3+c3_act  conv2d", "s2         pool2d", "loss       softmax_cross_entropy",
                "backward_weights", "backward_activation", "optimizer              step")) {
            assertTrue(r.out().contains(row), "no '" + row + "' in\n" + r.out());
        }
        assertTrue(!r.out().contains("c1+c1_act  conv2d                 backward_data"), "C1's backward-data must not run:\n" + r.out());
        assertTrue(r.out().contains("check: the rows add up to"), r.out());
        assertTrue(r.out().contains("JFR: 81 dev.isthmus.PlanExecution events"), "3 steps x 27 plan executions:\n" + r.out());
        assertTrue(Files.size(jfr) > 0);
    }

    @Test void inferenceRunsOnlyForwardPasses() {
        Run r = run("bench", "profile", "--backend", "simd", "--inference", "--steps", "2", "--warmup-steps", "0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("lenet inference, batch 1"), r.out());
        assertTrue(r.out().contains("forward_inference") && !r.out().contains("backward"), r.out());
    }

    @Test void badFlagsAreUsageErrors() {
        Run model = run("bench", "profile", "--model", "vgg");
        assertEquals(2, model.code());
        assertTrue(model.err().contains("--model: expected one of lenet, alexnet-paper, alexnet-modern, got 'vgg'"), model.err());
        Run rounds = run("bench", "profile", "--rounds", "3");
        assertEquals(2, rounds.code());
        assertTrue(rounds.err().contains("--rounds applies only to compare"), rounds.err());
        Run misplaced = run("bench", "compare", "--steps", "3");
        assertEquals(2, misplaced.code());
        assertTrue(misplaced.err().contains("--steps applies only to profile"), misplaced.err());
    }
}

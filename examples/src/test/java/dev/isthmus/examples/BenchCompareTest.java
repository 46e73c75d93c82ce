package dev.isthmus.examples;

import dev.isthmus.examples.CompareIsthmus.ConvCase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * `isthmus bench compare`'s numerical agreement on one small convolution: Isthmus (dnnl, simd),
 * the PyTorch worker and the C worker on the same inputs (the quick run checks every problem).
 * Skipped, saying why, where /usr/bin/python3 cannot import torch or gcc is absent. No timing.
 */
class BenchCompareTest {
    static String skipReason;

    @BeforeAll
    static void peers() {
        if (!succeeds(CompareWorker.PYTHON, "-c", "import torch")) {
            skipReason = CompareWorker.PYTHON + " cannot import torch (install: " + CompareWorker.TORCH_INSTALL + ")";
        } else if (!succeeds("gcc", "--version")) {
            skipReason = "gcc is absent (install: " + CompareWorker.GCC_INSTALL + ")";
        }
    }

    private static boolean succeeds(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void theThreePeersAgreeOnLenetC3() throws Exception {
        assumeTrue(skipReason == null, () -> "skipped: " + skipReason);
        Path compare = BenchCommand.root().resolve("bench/compare");
        ConvCase c3 = BenchCommand.CONVS.stream().filter(c -> c.name().equals("lenet:c3")).findFirst().orElseThrow();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (CompareIsthmus isthmus = new CompareIsthmus(2);
             CompareWorker torch = CompareWorker.torch(compare, 2);
             CompareWorker c = CompareWorker.dnnl(compare, 2);
             PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            BenchCommand.checkConvs(isthmus, torch, c, List.of(c3), out);   // throws when any peer is off
        }
        String line = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(line.startsWith("check lenet:c3 at batch 2") && line.contains("PyTorch") && line.contains(" C ")
                && line.contains("(ok"), line);
    }

    @Test
    void relativeDifferenceIsScaledByTheLargestExpectedValue() {
        assertEquals(0.5, BenchCommand.relativeDifference(new float[] {2, -4}, new float[] {2, -2}), 1e-12);
        assertEquals(Double.POSITIVE_INFINITY, BenchCommand.relativeDifference(new float[] {1}, new float[] {1, 2}));
        assertTrue(Double.isNaN(BenchCommand.relativeDifference(new float[] {1}, new float[] {Float.NaN})));
    }

    @Test
    void theSectionIsReplacedAndTheRestKept(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("RESULTS.md");
        Files.writeString(file, "# Results\n\n## jmh\n\nold jmh\n\n## bench compare\n\nold table\n\n## later\n\nkept\n");
        BenchCommand.writeSection(file, "## bench compare\n\nnew table\n");
        assertEquals("# Results\n\n## jmh\n\nold jmh\n\n## bench compare\n\nnew table\n\n## later\n\nkept\n", Files.readString(file));
        Path fresh = dir.resolve("NEW.md");
        BenchCommand.writeSection(fresh, "## bench compare\n\nt\n");
        BenchCommand.writeSection(fresh, "## bench compare\n\nu\n");
        assertEquals("## bench compare\n\nu\n", Files.readString(fresh));
    }

    @Test
    void percentilesAndRotation() {
        double[] sorted = new double[100];
        for (int i = 0; i < 100; i++) sorted[i] = i + 1;
        assertEquals(50, BenchCommand.percentile(sorted, 0.50));
        assertEquals(99, BenchCommand.percentile(sorted, 0.99));
        var peers = List.of(CompareIsthmus.Peer.DNNL, CompareIsthmus.Peer.TORCH, CompareIsthmus.Peer.C);
        assertEquals(List.of(CompareIsthmus.Peer.TORCH, CompareIsthmus.Peer.C, CompareIsthmus.Peer.DNNL), BenchCommand.rotate(peers, 1));
        assertEquals(peers, BenchCommand.rotate(peers, 3));
    }
}

package dev.isthmus.examples;

import dev.isthmus.examples.BenchCommand.Workload;
import dev.isthmus.examples.CompareIsthmus.Measurement;
import dev.isthmus.examples.CompareIsthmus.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * ONNX Runtime as a peer of `isthmus bench compare`: the agreement check on logits, the export of
 * LeNet-5 from the PyTorch worker with Isthmus's weights and its loading in ONNX Runtime, ONNX
 * Runtime's timed loop, and the workload list and ratios the quick and full runs print. The tests
 * that need the PyTorch worker are skipped, saying why, where /usr/bin/python3 cannot import torch.
 */
class OnnxPeerTest {
    private static void assumeTorch() {
        BenchCompareTest.peers();
        assumeTrue(BenchCompareTest.skipReason == null, () -> "skipped: " + BenchCompareTest.skipReason);
    }

    @Test
    void theAgreementCheckFailsWhenLogitsDiffer() {
        float[] reference = {1f, -2f, 4f, 0.5f};
        Map<String, float[]> close = new LinkedHashMap<>();
        close.put("simd", new float[] {1f, -2f, 4.0002f, 0.5f});   // 5e-5 of max |reference|
        String line = CompareInference.agree("tiny", reference, close, 1e-4);
        assertTrue(line.contains("simd 5.0e-05") && line.contains("(ok, tolerance 1.0E-4)"), line);

        Map<String, float[]> off = new LinkedHashMap<>(close);
        off.put("ONNX Runtime", new float[] {1f, -2f, 4f, 0.5004f});   // 1e-4 of 4: just over
        var e = assertThrows(IllegalStateException.class, () -> CompareInference.agree("tiny", reference, off, 9e-5));
        assertTrue(e.getMessage().contains("ONNX Runtime differs from Isthmus dnnl by 1.000e-04") && e.getMessage().contains("[1.0, -2.0, 4.0, 0.5004]"),
                e.getMessage());
        assertThrows(IllegalStateException.class, () -> CompareInference.agree("tiny", reference, Map.of("PyTorch", new float[] {1f, -2f, 4f}), 1));
        assertThrows(IllegalStateException.class,
                () -> CompareInference.agree("tiny", reference, Map.of("PyTorch", new float[] {1f, -2f, Float.NaN, 0.5f}), 1));
    }

    @Test
    void lenetExportedByPyTorchRunsInOnnxRuntimeWithTheSameLogits(@TempDir Path dir) throws Exception {
        assumeTorch();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (CompareIsthmus isthmus = new CompareIsthmus(2);
             CompareWorker torch = CompareWorker.torch(BenchCommand.root().resolve("bench/compare"), 2);
             CompareOnnx ort = new CompareOnnx();
             PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            Path onnx = CompareInference.check("lenet", isthmus, torch, ort, dir, out);   // throws when a peer disagrees
            assertTrue(Files.size(onnx) > 4 * 61_706, "the ONNX file holds LeNet-5's 61,706 weights: " + Files.size(onnx) + " bytes");
            String line = bytes.toString(StandardCharsets.UTF_8);
            assertTrue(line.startsWith("check lenet inference logits, batch 8") && line.contains("ONNX Runtime") && line.contains("(ok"), line);

            // The same images through ONNX Runtime after PyTorch exported other weights: the check must fail.
            int[] sample = {1, 32, 32};
            float[] images = CompareIsthmus.uniform(51, 8 * 1024);
            float[][] dnnl = isthmus.inferenceLogits(Peer.DNNL, "lenet", images);
            float[] changed = dnnl[0].clone();
            changed[changed.length - 1] += 0.5f;   // the last bias of the last layer: one logit moves by 0.5
            String prefix = dir.resolve("changed").toString();
            BenchCommand.writeFloats(Path.of(prefix + ".params"), changed);
            BenchCommand.writeFloats(Path.of(prefix + ".images"), images);
            torch.ask("export lenet " + prefix);
            float[] fromOrt = ort.logits(Path.of(prefix + ".onnx"), sample, images);
            var e = assertThrows(IllegalStateException.class,
                    () -> CompareInference.agree("changed", dnnl[1], Map.of("ONNX Runtime", fromOrt), CompareInference.tolerance("lenet")));
            assertTrue(e.getMessage().contains("ONNX Runtime differs"), e.getMessage());
            float[] fromTorch = BenchCommand.readFloats(Path.of(prefix + ".torch.logits"), 80);
            assertTrue(BenchCommand.relativeDifference(fromTorch, fromOrt) <= 1e-5, "PyTorch and ONNX Runtime still agree with each other");

            // The timed path: a session at batch 3 on 2 intra-op threads, released after.
            ort.prepare("t", onnx, 3, sample, 2);
            assertThrows(IllegalStateException.class, () -> ort.prepare("t", onnx, 3, sample, 2));
            Measurement m = ort.infer("t", 5);
            assertEquals(5, m.perCall().length);
            for (double s : m.perCall()) assertTrue(s > 0 && s < m.seconds() + 1e-9, "a call's time: " + s);
            ort.release("t");
            assertThrows(IllegalStateException.class, () -> ort.infer("t", 1));
        }
    }

    @Test
    void theQuickRunCoversOnnxRuntimeOnEveryModelAtBothThreadCounts() {
        List<Workload> quick = BenchCommand.workloads(true, 2);
        for (String model : List.of("lenet", "alexnet-paper", "alexnet-modern")) {
            Set<Integer> threads = quick.stream().filter(w -> model.equals(w.model()) && w.inference() && w.peers().contains(Peer.ORT))
                    .map(Workload::threads).collect(Collectors.toSet());
            assertEquals(Set.of(1, 2), threads, model);
            assertTrue(quick.stream().anyMatch(w -> model.equals(w.model()) && w.kind().equals("train") && w.peers().contains(Peer.SIMD)),
                    model + " trains on simd");
        }
        List<Workload> full = BenchCommand.workloads(false, 2);
        Set<String> labels = full.stream().map(Workload::label).collect(Collectors.toSet());
        for (String l : List.of("LeNet-5 inference, batch 1, 1 thread", "LeNet-5 inference, batch 256, 2 threads",
                "AlexNet paper inference, batch 32, 1 thread", "AlexNet modern inference, batch 1, 2 threads")) {
            assertTrue(labels.contains(l), l);
        }
        // AlexNet inference groups are one configuration each, so that their compiles are freed before the next.
        assertTrue(full.stream().filter(w -> w.model() != null && w.model().startsWith("alexnet") && w.inference())
                .allMatch(w -> w.group().equals(w.label())));
        assertEquals(List.of(1), BenchCommand.workloads(false, 1).stream().map(Workload::threads).distinct().toList());
    }

    @Test
    void theGoalRatiosAreIsthmusOverOnnxRuntimeWithinARound() {
        CompareTable table = new CompareTable();
        String p50 = BenchCommand.inferenceLabel("lenet", 1, 1) + " p50";
        table.row(p50, "µs", false);
        for (double[] v : new double[][] {{30, 60}, {40, 100}, {90, 100}}) {   // ratios 0.5, 0.4, 0.9: median 0.5
            table.add(p50, Peer.DNNL, v[0]);
            table.add(p50, Peer.SIMD, v[0] * 2);
            table.add(p50, Peer.ORT, v[1]);
        }
        String alex = BenchCommand.inferenceLabel("alexnet-paper", 32, 2);
        table.row(alex, "img/s", true);
        table.add(alex, Peer.DNNL, 30);
        table.add(alex, Peer.SIMD, 10);
        table.add(alex, Peer.ORT, 20);
        String s = BenchCommand.ortRatios(table, 2);
        assertTrue(s.contains("- LeNet-5 inference, batch 1, 1 thread p50 (time): dnnl/ORT 0.50x, simd/ORT 1.00x"), s);
        assertTrue(s.contains("- AlexNet paper inference, batch 32, 2 threads (throughput): dnnl/ORT 1.50x, simd/ORT 0.50x"), s);
        assertEquals("", BenchCommand.ortRatios(new CompareTable(), 2));
    }

    @Test
    void aSectionOfItsOwnIsAppendedAtTheEnd(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("RESULTS.md");
        Files.writeString(file, "# Results\n\n## bench compare\n\nold table\n\n## later\n\nkept\n");
        String heading = "## ONNX Runtime as a peer (issue 12, item 5)";
        BenchCommand.writeSection(file, heading, heading + "\n\nnew table\n");
        assertEquals("# Results\n\n## bench compare\n\nold table\n\n## later\n\nkept\n\n" + heading + "\n\nnew table\n", Files.readString(file));
        BenchCommand.writeSection(file, heading, heading + "\n\nnewer\n");
        assertTrue(Files.readString(file).endsWith("kept\n\n" + heading + "\n\nnewer\n"));
    }
}

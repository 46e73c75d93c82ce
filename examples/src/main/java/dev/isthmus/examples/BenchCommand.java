// `isthmus bench compare`: the same workloads run four ways in one run, alternating
// (A B C, B C A, C A B ...) so that drift on a shared machine hits all of them alike:
//   Isthmus in this JVM (dnnl and simd), PyTorch in a worker process
//   (bench/compare/torch_worker.py), oneDNN called from C in a worker process
//   (bench/compare/dnnl_worker.c, the floor for the FFM overhead on convolutions), and, for
//   inference, ONNX Runtime Java in this JVM on the models PyTorch exported with Isthmus's weights.
// Workers measure their own time. First the peers are checked to agree numerically on fixed
// inputs; --quick stops after a reduced set that runs every path once (CI's smoke test, no
// timing asserted). Workloads run in groups (LeNet-5 and the convolutions, then each AlexNet
// training and inference configuration), each prepared, measured over all rounds and freed before
// the next, so that the AlexNet compiles of all peers never sit in memory at once.
// The full run writes its table into bench/RESULTS.md ("## bench compare", or --section).
package dev.isthmus.examples;

import dev.isthmus.examples.CompareIsthmus.ConvCase;
import dev.isthmus.examples.CompareIsthmus.Measurement;
import dev.isthmus.examples.CompareIsthmus.Peer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Runs Isthmus, PyTorch, oneDNN-from-C and ONNX Runtime side by side and prints one table. */
final class BenchCommand implements Command {
    /** Relative tolerance of the numerical agreement: max |a - b| / max |b|. */
    static final double TOLERANCE = 1e-4;
    static final String SECTION = "## bench compare";

    /** AlexNet conv1-5 at batch 32 (paper: conv2, 4, 5 in two groups), LeNet-5 C1, C3, C5 at batch 64. */
    static final List<ConvCase> CONVS = List.of(
            ConvCase.of("alexnet:conv1", 1, 32, 3, 227, 96, 11, 4, 0),
            ConvCase.of("alexnet:conv2", 2, 32, 96, 27, 256, 5, 1, 2),
            ConvCase.of("alexnet:conv3", 1, 32, 256, 13, 384, 3, 1, 1),
            ConvCase.of("alexnet:conv4", 2, 32, 384, 13, 384, 3, 1, 1),
            ConvCase.of("alexnet:conv5", 2, 32, 384, 13, 256, 3, 1, 1),
            ConvCase.of("lenet:c1", 1, 64, 1, 32, 6, 5, 1, 0),
            ConvCase.of("lenet:c3", 1, 64, 6, 14, 16, 5, 1, 0),
            ConvCase.of("lenet:c5", 1, 64, 16, 5, 120, 5, 1, 0));
    static final List<String> PASSES = List.of("fwd", "bwd_d", "bwd_w");

    private final Args.Spec spec = new Args.Spec()
            .description("Runs the same workloads in Isthmus (dnnl and simd), in PyTorch (" + CompareWorker.PYTHON
                    + " bench/compare/torch_worker.py),\nfor convolutions in C calling the same oneDNN primitives "
                    + "(bench/compare/dnnl_worker.c, built with gcc),\nand for inference in ONNX Runtime Java (the models "
                    + "PyTorch exports with Isthmus's weights),\nalternating them round by round, and prints medians "
                    + "(min-max over rounds) and paired ratios. First it checks\nthat they agree numerically on fixed "
                    + "inputs. Workloads: LeNet-5 training (batch 64) and inference (batch 1, 32, 256),\nAlexNet training "
                    + "steps (batch 32) and inference (batch 1, 32), paper and torchvision-style, the inference\nat 1 thread "
                    + "and at --threads; AlexNet conv1-5 and LeNet C1/C3/C5 forward and backward.\n"
                    + "Without --quick the table goes into bench/RESULTS.md, section '" + SECTION + "' (or --section).\nNeeds PyTorch ("
                    + CompareWorker.TORCH_INSTALL + ") and gcc.")
            .action("compare", "Isthmus vs PyTorch vs oneDNN from C vs ONNX Runtime")
            .bool("quick", "a reduced set (smoke test, under 4 minutes): every path once, the numerical checks; writes nothing")
            .flag("rounds", "N", "5", "measured rounds (--quick: 1)")
            .flag("warmup", "N", "1", "warm-up rounds, discarded (--quick: 0)")
            .flag("threads", "N", "2", "threads for every peer (OpenMP, OpenBLAS, simd, ONNX Runtime intra-op); inference also runs at 1")
            .flag("section", "HEADING", SECTION, "the heading of bench/RESULTS.md the full run replaces (appended when missing)")
            .example("bench compare --quick")
            .example("bench compare --rounds 7");

    @Override public String name() { return "bench"; }

    @Override public String summary() { return "bench compare: Isthmus vs PyTorch vs oneDNN from C vs ONNX Runtime, alternating, one table"; }

    @Override public Args.Spec spec() { return spec; }

    /**
     * One thing to time, and who runs it: a training step ("train"), inference timed per call
     * ("latency": p50 and p99) or as images per second ("throughput"), or a convolution pass
     * ("conv"); at {@code threads} threads; in {@code group}, the workloads prepared and freed together.
     */
    record Workload(String label, String kind, String model, int batch, int iterations, ConvCase conv, String pass, List<Peer> peers,
                    int threads, String group) {
        String key() { return label; }

        boolean inference() { return kind.equals("latency") || kind.equals("throughput"); }
    }

    @Override public int run(Args args, PrintStream out) throws Exception {
        boolean quick = args.bool("quick");
        boolean verbose = args.bool(Args.VERBOSE);   // also: every measurement as it is taken, to stderr
        int rounds = quick && !args.has("rounds") ? 1 : args.intInRange("rounds", 1, 1000);
        int warmup = quick && !args.has("warmup") ? 0 : args.intInRange("warmup", 0, 100);
        int threads = args.intInRange("threads", 1, 1024);
        StringBuilder command = new StringBuilder("./isthmus bench compare");
        if (quick) command.append(" --quick");
        for (String f : List.of("rounds", "warmup", "threads")) if (args.has(f)) command.append(" --").append(f).append(' ').append(args.string(f));
        String heading = args.string("section");
        if (!heading.startsWith("## ") || heading.contains("\n")) {
            throw new IllegalArgumentException("--section must be one Markdown heading line starting with '## ', got '" + heading + "'");
        }
        if (args.has("section")) command.append(" --section '").append(heading).append('\'');
        Path root = root();
        Path compareDir = root.resolve("bench").resolve("compare");
        long t0 = System.nanoTime();
        String loadBefore = loadAverage();
        Path models = Files.createTempDirectory("isthmus-compare-onnx-");   // the exported ONNX models, deleted at the end
        try (CompareIsthmus isthmus = new CompareIsthmus(threads);
             CompareWorker torch = CompareWorker.torch(compareDir, threads);
             CompareWorker c = CompareWorker.dnnl(compareDir, threads);
             CompareOnnx ort = new CompareOnnx()) {
            Map<String, String> machine = machine(isthmus, torch, c, ort, threads);
            for (var e : machine.entrySet()) out.println(e.getKey() + ": " + e.getValue());
            out.println();

            List<String> notes = new ArrayList<>();
            checkConvs(isthmus, torch, c, quick ? CONVS.stream().filter(x -> x.name().startsWith("lenet") || x.name().equals("alexnet:conv2")).toList() : CONVS, out);
            checkLenet(isthmus, torch, out);
            Map<String, Path> onnx = new LinkedHashMap<>();
            for (String model : List.of("lenet", "alexnet-paper", "alexnet-modern")) {
                onnx.put(model, CompareInference.check(model, isthmus, torch, ort, models, out));
            }

            List<Workload> workloads = workloads(quick, threads);
            CompareTable table = new CompareTable();
            Map<String, Map<Peer, List<Long>>> heap = new LinkedHashMap<>();   // per latency row: heap bytes per call, per measured round
            Peers peers = new Peers(isthmus, torch, c, ort, onnx);
            Map<String, List<Workload>> groups = new LinkedHashMap<>();
            for (Workload w : workloads) groups.computeIfAbsent(w.group(), g -> new ArrayList<>()).add(w);
            for (var group : groups.entrySet()) {
                prepare(group.getValue(), peers, table, notes, out);
                for (int r = 0; r < warmup + rounds; r++) {
                    long roundStart = System.nanoTime();
                    boolean measured = r >= warmup;
                    for (Workload w : group.getValue()) {
                        List<Peer> order = rotate(w.peers(), r);
                        for (Peer p : order) {
                            Measurement m = measure(p, w, peers);
                            if (measured) record(table, w, p, m, heap);
                            if (verbose) {
                                System.err.printf(Locale.ROOT, "bench compare: round %d, %s, %s (order %s): %.4f s%n",
                                        r + 1, w.label(), p.title, order.stream().map(x -> x.title).toList(), m.seconds());
                            }
                        }
                    }
                    System.err.printf(Locale.ROOT, "bench compare: %s: %s round %d of %d done in %.1f s (load average %s)%n",
                            group.getKey(), measured ? "measured" : "warm-up", measured ? r - warmup + 1 : r + 1, measured ? rounds : warmup,
                            (System.nanoTime() - roundStart) * 1e-9, loadAverage());
                }
                release(group.getValue(), peers);
            }
            String loadAfter = loadAverage();
            String result = report(table, heap, notes, quick, threads);
            out.println();
            out.print(result);
            double seconds = (System.nanoTime() - t0) * 1e-9;
            out.printf(Locale.ROOT, "%nbench compare: %s in %.0f s; load average before %s, after %s%n",
                    quick ? "quick run (every path ran; numerical checks passed; no timing asserted)" : "done", seconds, loadBefore, loadAfter);
            if (!quick) {
                machine.put("load average (1, 5, 15 min)", "before " + loadBefore + "; after " + loadAfter + " (" + Runtime.getRuntime().availableProcessors() + " processors)");
                machine.put("rounds", rounds + " measured after " + warmup + " warm-up, peers rotated per round (A B C, B C A, ...); run took " + Math.round(seconds) + " s");
                machine.put("command", "`" + command + "`");
                Path results = root.resolve("bench").resolve("RESULTS.md");
                writeSection(results, heading, section(heading, machine, result));
                out.println("wrote section '" + heading + "' of " + results);
            }
        } finally {
            deleteFolder(models);
        }
        return 0;
    }

    /** Everyone who runs workloads, and the ONNX files (per model name) ONNX Runtime runs. */
    record Peers(CompareIsthmus isthmus, CompareWorker torch, CompareWorker c, CompareOnnx ort, Map<String, Path> onnx) {}

    // ---- the workloads -------------------------------------------------------------------------

    /** The label of a LeNet-5 or AlexNet inference row: "LeNet-5 inference, batch 1, 1 thread". */
    static String inferenceLabel(String model, int batch, int threads) {
        String net = switch (model) {
            case "lenet" -> "LeNet-5";
            case "alexnet-paper" -> "AlexNet paper";
            default -> "AlexNet modern";
        };
        return net + " inference, batch " + batch + ", " + threads + (threads == 1 ? " thread" : " threads");
    }

    static List<Workload> workloads(boolean quick, int threads) {
        List<Workload> w = new ArrayList<>();
        List<Peer> nets = List.of(Peer.DNNL, Peer.SIMD, Peer.TORCH), infer = List.of(Peer.DNNL, Peer.SIMD, Peer.TORCH, Peer.ORT);
        List<Integer> counts = threads == 1 ? List.of(1) : List.of(1, threads);   // inference: one core each, and all of them
        String lenet = "LeNet-5 and convolutions";
        w.add(new Workload("LeNet-5 train, batch 64", "train", "lenet", 64, quick ? 2 : 300, null, null, nets, threads, lenet));   // 300: long enough for the JIT to settle within the warm-up round
        for (int t : counts) {
            w.add(new Workload(inferenceLabel("lenet", 1, t), "latency", "lenet", 1, quick ? 20 : 4000, null, null, infer, t, lenet));
        }
        for (int batch : List.of(32, 256)) {
            for (int t : counts) {
                int calls = quick ? 1 : batch == 32 ? 150 : 20;   // about 0.3 to 0.6 s per peer and round at 1 thread
                w.add(new Workload(inferenceLabel("lenet", batch, t), "throughput", "lenet", batch, calls, null, null, infer, t, lenet));
            }
        }
        List<ConvCase> convs = quick ? CONVS.stream().filter(x -> x.name().startsWith("lenet")).toList() : CONVS;
        for (ConvCase c : convs) {
            long flops = c.spec().flops();
            int calls = (int) Math.max(1, Math.min(quick ? 5 : 100, (quick ? 2e8 : 1.5e9) / flops));
            for (String pass : PASSES) {
                w.add(new Workload(c.name() + " " + pass, "conv", null,
                        c.spec().batch(), calls, c, pass, List.of(Peer.DNNL, Peer.TORCH, Peer.C), threads, lenet));
            }
        }
        int alexBatch = quick ? 2 : 32;
        for (String model : List.of("alexnet-paper", "alexnet-modern")) {
            String name = model.equals("alexnet-paper") ? "AlexNet paper" : "AlexNet modern";
            w.add(new Workload(name + " train step, batch " + alexBatch, "train", model, alexBatch, 1, null, null, nets, threads, name + " training"));
            for (int batch : List.of(1, alexBatch)) {
                for (int t : counts) {
                    // --quick: batch 1 on one thread and the larger batch on all, which covers every path
                    if (quick && (batch == 1) != (t == 1)) continue;
                    int calls = quick ? 1 : batch == 1 ? 10 : 1;   // about 0.3 to 3 s per peer and round at 1 thread
                    w.add(new Workload(inferenceLabel(model, batch, t), "throughput", model, batch, calls, null, null, infer, t,
                            inferenceLabel(model, batch, t)));
                }
            }
        }
        return w;
    }

    private static void prepare(List<Workload> workloads, Peers peers, CompareTable table, List<String> notes, PrintStream out)
            throws Exception {
        CompareIsthmus isthmus = peers.isthmus();
        CompareWorker torch = peers.torch(), c = peers.c();
        List<String> defined = new ArrayList<>();
        for (Workload w : workloads) {
            switch (w.kind()) {
                case "train", "throughput" -> table.row(w.label(), "img/s", true);
                case "latency" -> {
                    table.row(w.label() + " p50", "µs", false);
                    table.row(w.label() + " p99", "µs", false);
                }
                default -> table.row(w.label(), "ms/call", false);
            }
            for (Peer p : w.peers()) {
                switch (w.kind()) {
                    case "train" -> {
                        if (p == Peer.TORCH) torch.ask("model " + key(w) + " " + w.model() + " train " + w.batch());
                        else isthmus.prepareTraining(p, key(w), w.model(), w.batch());
                    }
                    case "latency", "throughput" -> {
                        switch (p) {
                            case TORCH -> torch.ask("model " + key(w) + " " + w.model() + " infer " + w.batch());
                            case ORT -> peers.ort().prepare(key(w), peers.onnx().get(w.model()), w.batch(),
                                    CompareIsthmus.input(w.model()).dims(), w.threads());
                            default -> isthmus.prepareInference(p, key(w), w.model(), w.batch(), w.threads());
                        }
                    }
                    default -> {
                        String name = w.conv().name();
                        if (defined.contains(p + name)) continue;
                        defined.add(p + name);
                        if (p == Peer.TORCH) torch.ask(w.conv().defineLine());
                        else if (p == Peer.C) compareImplementations(w.conv(), c.ask(w.conv().defineLine()), isthmus, notes, out);
                        else isthmus.prepareConv(p, w.conv());
                    }
                }
            }
        }
    }

    /** The implementations oneDNN chose in Isthmus and in C for one problem: they should be the same. */
    private static void compareImplementations(ConvCase conv, Map<String, Object> fromC, CompareIsthmus isthmus,
                                               List<String> notes, PrintStream out) {
        String layouts = isthmus.prepareConv(Peer.DNNL, conv);
        String[] lines = layouts.split("\n");
        List<String> mine = new ArrayList<>(), theirs = new ArrayList<>();
        for (int i = 0; i < PASSES.size(); i++) {
            mine.add(lines[i].split(" ")[1]);
            theirs.add(String.valueOf(fromC.get(PASSES.get(i))));
        }
        String line = conv.name() + ": oneDNN implementations fwd/bwd_d/bwd_w: Isthmus " + String.join(", ", mine)
                + (mine.equals(theirs) ? " (C: the same)" : "; C " + String.join(", ", theirs) + " (DIFFERENT)");
        out.println(line);
        if (!mine.equals(theirs)) notes.add(line);
    }

    /** Frees what a group's training and inference workloads hold, on every peer (convolutions stay: they are small). */
    private static void release(List<Workload> workloads, Peers peers) throws Exception {
        for (Workload w : workloads) {
            if (w.kind().equals("conv")) continue;
            for (Peer p : w.peers()) {
                switch (p) {
                    case TORCH -> peers.torch().ask("drop " + key(w));
                    case ORT -> peers.ort().release(key(w));
                    default -> peers.isthmus().release(p, key(w));
                }
            }
        }
    }

    private static String key(Workload w) { return w.model() + "-" + w.kind() + "-" + w.batch() + "-t" + w.threads(); }

    private static Measurement measure(Peer p, Workload w, Peers peers) throws Exception {
        CompareIsthmus isthmus = peers.isthmus();
        CompareWorker torch = peers.torch(), c = peers.c();
        return switch (w.kind()) {
            case "train" -> p == Peer.TORCH ? new Measurement(torch.seconds("train " + key(w) + " " + w.iterations()), null, -1)
                    : isthmus.train(p, key(w), w.iterations());
            case "latency", "throughput" -> {
                if (p == Peer.ORT) yield peers.ort().infer(key(w), w.iterations());
                if (p != Peer.TORCH) yield isthmus.infer(p, key(w), w.iterations());
                Map<String, Object> a = torch.ask("infer " + key(w) + " " + w.iterations() + " " + w.threads());
                double[] each = ((List<?>) a.get("samples")).stream().mapToDouble(x -> ((Number) x).doubleValue()).toArray();
                yield new Measurement(((Number) a.get("seconds")).doubleValue(), each, -1);
            }
            default -> {
                String line = "conv " + w.conv().name() + " " + w.pass() + " " + w.iterations();
                yield switch (p) {
                    case TORCH -> new Measurement(torch.seconds(line), null, -1);
                    case C -> new Measurement(c.seconds(line), null, -1);
                    default -> isthmus.conv(p, w.conv(), w.pass(), w.iterations());
                };
            }
        };
    }

    private static void record(CompareTable table, Workload w, Peer p, Measurement m, Map<String, Map<Peer, List<Long>>> heap) {
        switch (w.kind()) {
            case "train", "throughput" -> table.add(w.label(), p, w.batch() * w.iterations() / m.seconds());
            case "latency" -> {
                double[] sorted = m.perCall().clone();
                Arrays.sort(sorted);
                table.add(w.label() + " p50", p, 1e6 * percentile(sorted, 0.50));
                table.add(w.label() + " p99", p, 1e6 * percentile(sorted, 0.99));
                if (m.heapBytes() >= 0) {
                    heap.computeIfAbsent(w.label(), x -> new java.util.EnumMap<>(Peer.class))
                            .computeIfAbsent(p, x -> new ArrayList<>()).add(Math.ceilDiv(m.heapBytes(), m.perCall().length));
                }
            }
            default -> table.add(w.label(), p, 1e3 * m.seconds() / w.iterations());
        }
    }

    /** The nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static List<Peer> rotate(List<Peer> peers, int round) {
        List<Peer> order = new ArrayList<>(peers);
        java.util.Collections.rotate(order, -(round % peers.size()));
        return order;
    }

    // ---- numerical agreement -------------------------------------------------------------------

    /**
     * Each problem at batch 2 on the same inputs (written to temporary files the workers read):
     * forward, backward-data and backward-weights of Isthmus dnnl, Isthmus simd, PyTorch and C
     * against Isthmus dnnl; throws when any is off by more than {@link #TOLERANCE}.
     */
    static void checkConvs(CompareIsthmus isthmus, CompareWorker torch, CompareWorker c, List<ConvCase> convs, PrintStream out)
            throws IOException {
        Path dir = Files.createTempDirectory("isthmus-compare-");
        try {
            for (ConvCase full : convs) {
                ConvCase conv = full.withBatch(2, "check-" + full.name().replace(':', '-'));
                var s = conv.spec();
                float[] src = CompareIsthmus.uniform(31, Math.toIntExact(s.srcShape().elements()));
                float[] weights = CompareIsthmus.uniform(32, Math.toIntExact(s.weightsShape().elements()));
                float[] bias = CompareIsthmus.uniform(33, s.outChannels());
                float[] diffDst = CompareIsthmus.uniform(34, Math.toIntExact(s.dstShape().elements()));
                String prefix = dir.resolve(conv.name()).toString();
                writeFloats(Path.of(prefix + ".src"), src);
                writeFloats(Path.of(prefix + ".weights"), weights);
                writeFloats(Path.of(prefix + ".bias"), bias);
                writeFloats(Path.of(prefix + ".diff_dst"), diffDst);
                float[][] expected = isthmus.convOutputs(Peer.DNNL, conv, src, weights, bias, diffDst);
                torch.ask(conv.defineLine());
                torch.ask("check " + conv.name() + " " + prefix);
                c.ask(conv.defineLine());
                c.ask("check " + conv.name() + " " + prefix);
                Map<String, float[][]> got = new LinkedHashMap<>();
                got.put("simd", isthmus.convOutputs(Peer.SIMD, conv, src, weights, bias, diffDst));
                got.put("PyTorch", readOutputs(prefix, "torch", expected));
                got.put("C", readOutputs(prefix, "c", expected));
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "check %s at batch 2 (%s), max relative difference to Isthmus dnnl over dst, diff_src, diff_weights, diff_bias:",
                        full.name(), s));
                for (var e : got.entrySet()) {
                    double worst = 0;
                    String[] names = {"dst", "diff_src", "diff_weights", "diff_bias"};
                    for (int i = 0; i < names.length; i++) {
                        double d = relativeDifference(expected[i], e.getValue()[i]);
                        if (!(d <= TOLERANCE)) {
                            throw new IllegalStateException(String.format(Locale.ROOT,
                                    "%s %s: %s differs from Isthmus dnnl by %.3e (tolerance %.0e); first values %s vs %s",
                                    full.name(), names[i], e.getKey(), d, TOLERANCE, head(e.getValue()[i]), head(expected[i])));
                        }
                        worst = Math.max(worst, d);
                    }
                    line.append(String.format(Locale.ROOT, " %s %.1e", e.getKey(), worst));
                }
                out.println(line.append(" (ok, tolerance ").append(TOLERANCE).append(')'));
            }
        } finally {
            deleteFolder(dir);
        }
    }

    /**
     * LeNet-5 from Isthmus's initial parameters on one batch of 8: the losses of three SGD steps
     * and the first logits of Isthmus dnnl, Isthmus simd and PyTorch; throws when they differ by
     * more than {@link #TOLERANCE}. This checks that the two sides build the same network.
     */
    static void checkLenet(CompareIsthmus isthmus, CompareWorker torch, PrintStream out) throws IOException {
        int batch = 8, steps = 3;
        float[] images = CompareIsthmus.uniform(41, batch * 32 * 32);
        int[] labels = CompareIsthmus.labels(batch, 10, 42);
        float[][] dnnl = isthmus.lenetSteps(Peer.DNNL, images, labels, steps);
        float[][] simd = isthmus.lenetSteps(Peer.SIMD, images, labels, steps);
        Path dir = Files.createTempDirectory("isthmus-compare-");
        try {
            String prefix = dir.resolve("lenet").toString();
            writeFloats(Path.of(prefix + ".params"), dnnl[0]);
            writeFloats(Path.of(prefix + ".images"), images);
            ByteBuffer b = ByteBuffer.allocate(4 * batch).order(ByteOrder.LITTLE_ENDIAN);
            for (int l : labels) b.putInt(l);
            Files.write(Path.of(prefix + ".labels"), b.array());
            torch.ask("lenet_check " + prefix + " " + steps);
            float[] torchLosses = readFloats(Path.of(prefix + ".torch.losses"), steps);
            float[] torchLogits = readFloats(Path.of(prefix + ".torch.logits"), batch * 10);
            double losses = Math.max(relativeDifference(torchLosses, dnnl[1]), relativeDifference(torchLosses, simd[1]));
            double logits = Math.max(relativeDifference(torchLogits, dnnl[2]), relativeDifference(torchLogits, simd[2]));
            if (!(losses <= TOLERANCE && logits <= TOLERANCE)) {
                throw new IllegalStateException(String.format(Locale.ROOT, "LeNet-5: PyTorch and Isthmus disagree: losses %s (PyTorch) vs %s (dnnl) vs %s (simd),"
                        + " logits differ by %.3e", Arrays.toString(torchLosses), Arrays.toString(dnnl[1]), Arrays.toString(simd[1]), logits));
            }
            out.printf(Locale.ROOT, "check LeNet-5, batch %d, same initial parameters: losses over %d SGD steps PyTorch %s, Isthmus dnnl %s, simd %s;"
                    + " max relative difference losses %.1e, first logits %.1e (ok, tolerance %s)%n", batch, steps,
                    Arrays.toString(torchLosses), Arrays.toString(dnnl[1]), Arrays.toString(simd[1]), losses, logits, TOLERANCE);
        } finally {
            deleteFolder(dir);
        }
    }

    /** max |actual - expected| / max |expected|; infinite when lengths differ, NaN stays NaN. */
    static double relativeDifference(float[] expected, float[] actual) {
        if (expected.length != actual.length) return Double.POSITIVE_INFINITY;
        double diff = 0, scale = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(d)) return Double.NaN;
            diff = Math.max(diff, d);
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }

    private static String head(float[] v) {
        return Arrays.toString(Arrays.copyOf(v, Math.min(4, v.length)));
    }

    private static float[][] readOutputs(String prefix, String peer, float[][] like) throws IOException {
        String[] names = {"dst", "diff_src", "diff_weights", "diff_bias"};
        float[][] r = new float[4][];
        for (int i = 0; i < 4; i++) r[i] = readFloats(Path.of(prefix + "." + peer + "." + names[i]), like[i].length);
        return r;
    }

    static void writeFloats(Path file, float[] values) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        Files.write(file, b.array());
    }

    static float[] readFloats(Path file, int n) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length != 4 * n) throw new IOException(file + " holds " + bytes.length + " bytes, expected " + 4 * n);
        float[] v = new float[n];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }

    private static void deleteFolder(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }

    // ---- the report ----------------------------------------------------------------------------

    private static String report(CompareTable table, Map<String, Map<Peer, List<Long>>> heap, List<String> notes, boolean quick, int threads) {
        StringBuilder s = new StringBuilder();
        s.append("Medians over the measured rounds, (min–max) in brackets. ↑: throughput, the ratios are Isthmus/peer throughput\n"
                + "(above 1: Isthmus faster). ↓: time, the ratios are Isthmus/peer time (below 1: Isthmus faster). A ratio is the\n"
                + "median over rounds of the ratio within a round (the peers of a round ran back to back). — : not run.\n\n");
        s.append(table.markdown()).append('\n');
        s.append("Java heap allocated per LeNet-5 batch-1 inference call in this JVM (this thread's getCurrentThreadAllocatedBytes"
                + " around the loop of calls, divided by the calls), per measured round"
                + (quick ? " (a cold JVM: --quick has no warm-up, so this is not the steady state)" : "") + ":\n");
        for (var row : heap.entrySet()) {
            s.append("- ").append(row.getKey()).append(':');
            for (var p : row.getValue().entrySet()) s.append(' ').append(p.getKey().title).append(' ').append(p.getValue());
            s.append('\n');
        }
        for (String n : notes) s.append("Note: ").append(n).append('\n');
        s.append(ortRatios(table, threads));
        if (quick) return s.toString();
        s.append("\nGoals (measured, not asserted):\n\n");
        goal(s, table, "LeNet-5 train, batch 64", Peer.TORCH, 3.0, true, "LeNet-5 training throughput >= 3.0x PyTorch");
        goal(s, table, "AlexNet paper train step, batch 32", Peer.TORCH, 1.3, true, "AlexNet (paper) training step throughput >= 1.3x PyTorch");
        goal(s, table, "AlexNet modern train step, batch 32", Peer.TORCH, 1.3, true, "AlexNet (modern) training step throughput >= 1.3x PyTorch");
        goal(s, table, inferenceLabel("lenet", 1, threads) + " p99", Peer.TORCH, 0.1, false, "LeNet-5 batch-1 inference p99 <= 0.1x PyTorch's (" + threads + " threads)");
        goal(s, table, inferenceLabel("lenet", 1, 1) + " p50", Peer.ORT, 0.5, false, "LeNet-5 batch-1 inference p50 <= 0.5x ONNX Runtime's (1 thread each)");
        goal(s, table, inferenceLabel("lenet", 1, 1) + " p99", Peer.ORT, 0.5, false, "LeNet-5 batch-1 inference p99 <= 0.5x ONNX Runtime's (1 thread each)");
        for (String model : List.of("alexnet-paper", "alexnet-modern")) {
            for (int batch : List.of(1, 32)) {
                for (int t : threads == 1 ? List.of(1) : List.of(1, threads)) {
                    String label = inferenceLabel(model, batch, t);
                    goal(s, table, label, Peer.ORT, 1.5, true, label + ": throughput >= 1.5x ONNX Runtime's");
                }
            }
        }
        Map<Peer, List<Long>> lenetHeap = heap.getOrDefault(inferenceLabel("lenet", 1, threads), Map.of());
        List<Long> dnnlHeap = lenetHeap.getOrDefault(Peer.DNNL, List.of());
        boolean zero = !dnnlHeap.isEmpty() && dnnlHeap.stream().allMatch(b -> b == 0);
        s.append(String.format(Locale.ROOT, "- 0 bytes of Java heap per inference call (dnnl, every measured round): %s (%s B)%n",
                zero ? "MET" : "NOT MET", dnnlHeap));
        int met = 0, total = 0;
        double worst = 0;
        String worstRow = "";
        for (ConvCase c : CONVS) {
            for (String pass : PASSES) {
                CompareTable.Row row = table.get(c.name() + " " + pass);
                if (row == null) continue;
                double r = row.ratio(Peer.DNNL, Peer.C);
                total++;
                if (r <= 1.02) met++;
                if (r > worst) {
                    worst = r;
                    worstRow = row.label;
                }
            }
        }
        s.append(String.format(Locale.ROOT, "- oneDNN convolution through Isthmus <= 1.02x the same primitive from C: %s (%d of %d passes within; worst %.2fx, %s)%n",
                met == total ? "MET" : "NOT MET", met, total, worst, worstRow));
        return s.toString();
    }

    /**
     * The ratios issue 12's goals use, against ONNX Runtime: LeNet-5 batch-1 p50 and p99 at 1 thread
     * each (Isthmus/ORT time, below 1: Isthmus faster), AlexNet throughput (Isthmus/ORT, above 1:
     * Isthmus faster), for dnnl and simd; empty when no ONNX Runtime row was measured.
     */
    static String ortRatios(CompareTable table, int threads) {
        StringBuilder s = new StringBuilder();
        List<String> labels = new ArrayList<>();
        labels.add(inferenceLabel("lenet", 1, 1) + " p50");
        labels.add(inferenceLabel("lenet", 1, 1) + " p99");
        for (String model : List.of("alexnet-paper", "alexnet-modern")) {
            for (int batch : List.of(1, 2, 32)) {
                for (int t : threads == 1 ? List.of(1) : List.of(1, threads)) labels.add(inferenceLabel(model, batch, t));
            }
        }
        for (String label : labels) {
            CompareTable.Row row = table.get(label);
            if (row == null || Double.isNaN(row.median(Peer.ORT))) continue;
            s.append(String.format(Locale.ROOT, "- %s%s: dnnl/ORT %.2fx, simd/ORT %.2fx%n", label,
                    row.higherIsBetter ? " (throughput)" : " (time)", row.ratio(Peer.DNNL, Peer.ORT), row.ratio(Peer.SIMD, Peer.ORT)));
        }
        return s.isEmpty() ? "" : "\nIsthmus against ONNX Runtime (the ratios of issue 12's goals; paired per round):\n\n" + s;
    }

    private static void goal(StringBuilder s, CompareTable table, String label, Peer peer, double target, boolean atLeast, String text) {
        CompareTable.Row row = table.get(label);
        if (row == null) return;
        double r = row.ratio(Peer.DNNL, peer);
        boolean met = atLeast ? r >= target : r <= target;
        s.append(String.format(Locale.ROOT, "- %s: %s (%.2fx)%n", text, met ? "MET" : "NOT MET", r));
    }

    // ---- the machine and RESULTS.md ------------------------------------------------------------

    private static Map<String, String> machine(CompareIsthmus isthmus, CompareWorker torch, CompareWorker c, CompareOnnx ort, int threads)
            throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        m.put("machine", Runtime.getRuntime().availableProcessors() + " processors (nproc), " + cpuModel());
        m.put("JDK", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " " + Runtime.version());
        m.put("Isthmus dnnl", isthmus.describe(Peer.DNNL));
        m.put("Isthmus simd", isthmus.describe(Peer.SIMD));
        Map<String, Object> ci = c.ask("info");
        m.put("C peer", "bench/compare/dnnl_worker.c, gcc, oneDNN " + ci.get("dnnl") + " (the same libdnnl.so.3), OpenMP with "
                + ci.get("threads") + " threads");
        Map<String, Object> ti = torch.ask("info");
        m.put("PyTorch", ti.get("torch") + " (" + CompareWorker.PYTHON + " " + ti.get("python") + ", numpy " + ti.get("numpy") + "), "
                + ti.get("threads") + " threads, " + ti.get("cpu_capability"));
        m.put("PyTorch oneDNN", ti.get("mkldnn") + ", available " + ti.get("mkldnn_available") + ", enabled " + ti.get("mkldnn_enabled")
                + "; MKL available " + ti.get("mkl_available"));
        m.put("PyTorch BLAS", ti.get("blas") + " (from /proc/self/maps)");
        m.put("PyTorch libraries", String.valueOf(ti.get("libraries")));
        m.put("ONNX Runtime", ort.describe() + "; models exported by PyTorch (torch.onnx.export, opset 13) with Isthmus's weights");
        m.put("threads", threads + " for every peer (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, torch.set_num_threads, omp_set_num_threads, simd pool,"
                + " ONNX Runtime intra-op threads); the inference rows also at 1 thread for every peer (a row's label says which)");
        m.put("data", "random inputs and labels of the real shapes (fixed seeds), not MNIST or ImageNet: the work per step does not depend on the values");
        return m;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String section(String heading, Map<String, String> machine, String result) {
        StringBuilder s = new StringBuilder(heading).append("\n\n");
        s.append("Written by `./isthmus bench compare` (examples/src/main/java/dev/isthmus/examples/BenchCommand.java;\n"
                + "the peers and how they are built: bench/compare/README.md). Replaced by every full run.\n\n");
        for (var e : machine.entrySet()) s.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
        s.append('\n').append(result);
        return s.toString();
    }

    /** Replaces the section (from its heading to the next "## " heading or the end) or appends it. */
    static void writeSection(Path file, String section) throws IOException {
        writeSection(file, SECTION, section);
    }

    /** Replaces the section under {@code heading} (to the next "## " heading or the end) or appends it. */
    static void writeSection(Path file, String heading, String section) throws IOException {
        String text = Files.exists(file) ? Files.readString(file) : "";
        String body = section.endsWith("\n") ? section : section + "\n";
        int start = text.startsWith(heading + "\n") ? 0 : text.indexOf("\n" + heading + "\n");
        String updated;
        if (start < 0) {
            updated = text.isEmpty() ? body : text + (text.endsWith("\n") ? "\n" : "\n\n") + body;
        } else {
            if (start > 0) start++;
            int end = text.indexOf("\n## ", start + heading.length());
            updated = text.substring(0, start) + body + (end < 0 ? "" : "\n" + text.substring(end + 1));
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, updated);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** The repository root: -Disthmus.root (the ./isthmus script sets it), else the nearest folder up with bench/compare. */
    static Path root() {
        String property = System.getProperty("isthmus.root");
        if (property != null) return Path.of(property);
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("bench/compare/torch_worker.py"))) return p;
        }
        throw new IllegalStateException("cannot find the Isthmus repository (bench/compare/torch_worker.py) above "
                + Path.of("").toAbsolutePath() + "; run through ./isthmus or set -Disthmus.root");
    }
}

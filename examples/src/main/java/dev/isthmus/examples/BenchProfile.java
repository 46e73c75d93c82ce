// `isthmus bench profile`: where every microsecond of a training step (or an inference) goes.
// The model is compiled twice on one backend: once through a ProfilingBackend, which times each
// plan execution per (layer, pass), and once plainly. Steps alternate between the two in blocks,
// so drift on a shared machine hits both alike; the table's rows are checked to add up to the
// profiled step time measured around each whole step, and the plain step shows what profiling
// costs. With --jfr the measured steps are also recorded as JFR events (dev.isthmus.PlanExecution).
package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.engine.profile.ProfilingBackend;
import dev.isthmus.nn.CrossEntropyLoss;
import dev.isthmus.nn.SGD;
import dev.isthmus.nn.Sequential;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Runs {@code bench profile}: a per-op table of one model's step on one backend. */
final class BenchProfile {
    static final List<String> MODELS = List.of("lenet", "alexnet-paper", "alexnet-modern");
    /** The rows must add up to the measured step within this fraction (the goal). */
    static final double TOLERANCE = 0.05;
    /** Steps per block of the alternation profiled / plain. */
    static final int BLOCK = 10;

    private BenchProfile() {}

    /** The flags {@code bench profile} adds to {@code bench}'s spec (declared there, after the action). */
    static Args.Spec declare(Args.Spec spec) {
        return spec
                .flag("model", "NAME", "lenet", "the network: " + String.join(", ", MODELS)).onlyFor("profile")
                .flag("backend", "NAME", "dnnl", "the backend to profile: dnnl, simd, reference").onlyFor("profile")
                .flag("batch", "N", null, "batch size (default: 64 for lenet, 32 for alexnet; 1 with --inference for lenet)").onlyFor("profile")
                .bool("inference", "profile an inference forward instead of a training step").onlyFor("profile")
                .flag("steps", "N", null, "measured steps per model (default: 300 for lenet, 6 for alexnet)").onlyFor("profile")
                .flag("warmup-steps", "N", null, "discarded steps first (default: 300 for lenet, 2 for alexnet)").onlyFor("profile")
                .flag("jfr", "FILE", null, "also record the measured steps' plan executions as JFR events into FILE").onlyFor("profile");
    }

    /** One model, its data and (training) loss and optimizer, on one backend. */
    private static final class Workload implements AutoCloseable {
        final Sequential model;
        final CrossEntropyLoss loss;
        final SGD sgd;
        final Tensor images, labels;   // (N, C, H, W), (N) int32
        float lastLoss;

        Workload(Backend backend, String name, int batch, boolean inference) {
            Shape input = CompareIsthmus.input(name);
            int classes = CompareIsthmus.classes(name);
            model = CompareIsthmus.model(name).compile(backend, batch, input,
                    inference ? Sequential.Mode.INFERENCE : Sequential.Mode.TRAIN, CompareIsthmus.SEED);
            loss = inference ? null : new CrossEntropyLoss().compile(backend.forLayer("loss"), batch, classes);
            sgd = inference ? null : new SGD(model.parameters(), CompareIsthmus.LR, CompareIsthmus.MOMENTUM, 0f, false);
            images = backend.allocate(input.prepend(batch), DType.F32);
            images.copyFrom(CompareIsthmus.uniform(11, Math.toIntExact(images.elements())));
            labels = backend.allocate(Shape.of(batch), DType.S32);
            labels.copyFrom(CompareIsthmus.labels(batch, classes, 12));
        }

        /** One step: forward, loss, zeroGrad, backward, SGD; or one inference forward. */
        void step() {
            if (loss == null) {
                model.forward(images);
                return;
            }
            lastLoss = loss.forward(model.forward(images), labels);
            sgd.zeroGrad();
            model.backward(loss.backward());
            sgd.step();
        }

        /** Runs {@code n} steps and returns their total nanoseconds, each step timed on its own. */
        long steps(int n) {
            long total = 0;
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                step();
                total += System.nanoTime() - t0;
            }
            return total;
        }

        @Override public void close() {
            labels.close();
            images.close();
            if (sgd != null) sgd.close();
            if (loss != null) loss.close();
            model.close();
        }
    }

    static int run(Args args, PrintStream out) throws Exception {
        for (String f : List.of("quick", "rounds", "warmup", "threads", "section")) {
            if (args.has(f)) throw new Args.UsageError("--" + f + " applies only to compare, not to profile");
        }
        String name = args.string("model");
        if (!MODELS.contains(name)) throw new Args.UsageError("--model: expected one of " + String.join(", ", MODELS) + ", got '" + name + "'");
        BackendKind kind = BackendKind.parse(args.string("backend"));
        boolean inference = args.bool("inference");
        boolean lenet = name.equals("lenet");
        int batch = args.has("batch") ? args.intInRange("batch", 1, 4096) : lenet ? (inference ? 1 : 64) : 32;
        int steps = args.has("steps") ? args.intInRange("steps", 1, 1_000_000) : lenet ? 300 : 6;
        int warmup = args.has("warmup-steps") ? args.intInRange("warmup-steps", 0, 1_000_000) : lenet ? 300 : 2;
        Path jfr = args.has("jfr") ? args.path("jfr") : null;

        Backend created = Backends.create(kind);
        try (ProfilingBackend profiled = created instanceof ProfilingBackend p ? p : new ProfilingBackend(created);
             Workload mine = new Workload(profiled, name, batch, inference);
             Workload plain = new Workload(profiled.inner(), name, batch, inference)) {
            String what = String.format(Locale.ROOT, "%s %s, batch %d, on %s [%s]", name,
                    inference ? "inference" : "training step", batch, kind.cliName(), profiled.inner().describe());
            out.println("bench profile: " + what);
            out.printf(Locale.ROOT, "warm-up: %d steps each (profiled and plain), then %d measured steps each, alternating in blocks of %d%n",
                    warmup, steps, Math.min(BLOCK, steps));
            alternate(mine, plain, warmup);
            profiled.profile().reset();
            JfrCapture capture = jfr == null ? null : JfrCapture.start();
            Alternation measured = alternate(mine, plain, steps);
            if (capture != null) capture.stopInto(jfr, out);
            out.println();
            ProfileTable.print(profiled.profile().rows(), steps, measured.profiledNanos(), measured.plainNanos(), measured.medianRatio(), out);
            if (!inference) out.printf(Locale.ROOT, "loss after the last step: %.6f (random data: a finite number is all it says)%n", mine.lastLoss);
            if (!inference && !Float.isFinite(mine.lastLoss)) throw new IllegalStateException("the loss is " + mine.lastLoss);
        }
        return 0;
    }

    /**
     * The two workloads' times over {@code steps} steps each, in alternating blocks: their totals,
     * and the median over blocks of profiled/plain, which a busy machine disturbs far less than the
     * ratio of the totals (a block pair runs back to back).
     */
    record Alternation(long profiledNanos, long plainNanos, double medianRatio) {}

    private static Alternation alternate(Workload profiled, Workload plain, int steps) {
        long a = 0, b = 0;
        double[] ratios = new double[(steps + BLOCK - 1) / BLOCK];
        int blocks = 0;
        for (int done = 0; done < steps; done += BLOCK) {
            int n = Math.min(BLOCK, steps - done);
            long x = profiled.steps(n), y = plain.steps(n);
            a += x;
            b += y;
            ratios[blocks++] = (double) x / y;
        }
        java.util.Arrays.sort(ratios, 0, blocks);
        double median = blocks == 0 ? Double.NaN : blocks % 2 == 1 ? ratios[blocks / 2] : (ratios[blocks / 2 - 1] + ratios[blocks / 2]) / 2;
        return new Alternation(a, b, median);
    }

    /** A JFR recording of the plan-execution events only, started and stopped around the measured steps. */
    private record JfrCapture(jdk.jfr.Recording recording) {
        static JfrCapture start() {
            jdk.jfr.Recording r = new jdk.jfr.Recording();
            r.enable("dev.isthmus.PlanExecution");
            r.start();
            return new JfrCapture(r);
        }

        void stopInto(Path file, PrintStream out) throws java.io.IOException {
            recording.stop();
            recording.dump(file);
            recording.close();
            long events = 0;
            try (var f = new jdk.jfr.consumer.RecordingFile(file)) {
                while (f.hasMoreEvents()) if (f.readEvent().getEventType().getName().equals("dev.isthmus.PlanExecution")) events++;
            }
            out.println("JFR: " + events + " dev.isthmus.PlanExecution events in " + file
                    + " (jfr print --events dev.isthmus.PlanExecution " + file + ")");
        }
    }
}

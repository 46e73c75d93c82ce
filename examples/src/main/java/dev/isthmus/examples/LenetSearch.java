// `isthmus lenet search --grid '...'`: the lecture's "tune the number of layers and neurons per layer
// using grid search". Every combination of the grid is one trial: LeNet-5 with those layer widths,
// trained with SGD for up to --epochs on the training digits less a --validation split (seeded, the
// same for every trial), stopped early after --patience epochs without a better validation error.
// The test set is never looked at during the search. The trials are ranked by their best
// validation error (terminal table and search.json); the best combination is then trained on all
// 60,000 training digits for --final-epochs and evaluated once on the 10,000 test digits.
//
// --parallel K runs K trials at once on K threads, each with its own backend and 1/K of the cores
// (oneDNN's OpenMP threads set per calling thread with omp_set_num_threads).
package dev.isthmus.examples;

import dev.isthmus.bindings.omp.omp_h;
import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.simd.SimdBackend;
import dev.isthmus.nn.Checkpoint;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.LrSchedule;
import dev.isthmus.nn.Metrics;
import dev.isthmus.nn.Progress;
import dev.isthmus.nn.SGD;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.Trainer;
import dev.isthmus.nn.TrainingDivergedException;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.Mnist;
import dev.isthmus.nn.data.MnistLocator;
import dev.isthmus.nn.io.Json;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** The logic of {@code lenet search}; {@link LenetCommand} declares its flags. */
final class LenetSearch {
    private LenetSearch() {}

    /** The grid's keys, in the order the table shows them. */
    static final List<String> KEYS = List.of("lr", "batch", "momentum", "weight-decay", "c1", "c3", "c5", "f6");

    /** One combination: SGD's settings and LeNet-5's widths. */
    record Combination(float lr, int batch, float momentum, float weightDecay, LeNet5.Sizes sizes) {
        String describe() {
            return String.format(Locale.ROOT, "lr=%s batch=%d momentum=%s weight-decay=%s c1=%d c3=%d c5=%d f6=%d", lr, batch,
                    momentum, weightDecay, sizes.c1(), sizes.c3(), sizes.c5(), sizes.f6());
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("lr", (double) lr);
            m.put("batch", batch);
            m.put("momentum", (double) momentum);
            m.put("weight_decay", (double) weightDecay);
            m.put("c1", sizes.c1());
            m.put("c3", sizes.c3());
            m.put("c5", sizes.c5());
            m.put("f6", sizes.f6());
            return m;
        }
    }

    /** One trial's outcome; {@code validationError} is NaN when training diverged. */
    record Trial(int index, Combination combination, double validationError, double validationLoss, int bestEpoch,
                 int epochsRun, double seconds, String note) {}

    /**
     * Parses "lr=0.01,0.05 batch=32,64 c3=16,32" into every combination (the last key varying
     * fastest); keys not given take {@code defaults}' values.
     */
    static List<Combination> parseGrid(String grid, Combination defaults) {
        Map<String, List<String>> values = new LinkedHashMap<>();
        for (String word : grid.trim().split("\\s+")) {
            if (word.isEmpty()) continue;
            int eq = word.indexOf('=');
            String key = eq < 0 ? word : word.substring(0, eq);
            if (eq < 0 || !KEYS.contains(key)) {
                throw new Args.UsageError("--grid: expected KEY=V1,V2,... with KEY one of " + String.join(", ", KEYS) + ", got '" + word + "'");
            }
            if (values.containsKey(key)) throw new Args.UsageError("--grid: " + key + " given twice");
            List<String> vs = List.of(word.substring(eq + 1).split(","));
            if (vs.isEmpty() || vs.stream().anyMatch(String::isBlank)) throw new Args.UsageError("--grid: no values in '" + word + "'");
            values.put(key, vs);
        }
        if (values.isEmpty()) throw new Args.UsageError("--grid: empty; expected for example 'lr=0.01,0.05 c3=16,32'");
        List<Combination> all = new ArrayList<>();
        all.add(defaults);
        for (var e : values.entrySet()) {
            List<Combination> next = new ArrayList<>();
            for (Combination c : all) for (String v : e.getValue()) next.add(with(c, e.getKey(), v.strip()));
            all = next;
        }
        return all;
    }

    private static Combination with(Combination c, String key, String value) {
        try {
            LeNet5.Sizes s = c.sizes();
            return switch (key) {
                case "lr" -> new Combination(positive(key, Float.parseFloat(value)), c.batch(), c.momentum(), c.weightDecay(), s);
                case "batch" -> new Combination(c.lr(), (int) positive(key, Integer.parseInt(value)), c.momentum(), c.weightDecay(), s);
                case "momentum" -> new Combination(c.lr(), c.batch(), Float.parseFloat(value), c.weightDecay(), s);
                case "weight-decay" -> new Combination(c.lr(), c.batch(), c.momentum(), Float.parseFloat(value), s);
                case "c1" -> new Combination(c.lr(), c.batch(), c.momentum(), c.weightDecay(), new LeNet5.Sizes(Integer.parseInt(value), s.c3(), s.c5(), s.f6()));
                case "c3" -> new Combination(c.lr(), c.batch(), c.momentum(), c.weightDecay(), new LeNet5.Sizes(s.c1(), Integer.parseInt(value), s.c5(), s.f6()));
                case "c5" -> new Combination(c.lr(), c.batch(), c.momentum(), c.weightDecay(), new LeNet5.Sizes(s.c1(), s.c3(), Integer.parseInt(value), s.f6()));
                case "f6" -> new Combination(c.lr(), c.batch(), c.momentum(), c.weightDecay(), new LeNet5.Sizes(s.c1(), s.c3(), s.c5(), Integer.parseInt(value)));
                default -> throw new IllegalStateException(key);
            };
        } catch (IllegalArgumentException e) {
            throw new Args.UsageError("--grid: " + key + "=" + value + ": " + (e instanceof NumberFormatException ? "not a number" : e.getMessage()));
        }
    }

    private static float positive(String key, float v) {
        if (!(v > 0) || !Float.isFinite(v)) throw new IllegalArgumentException("expected a positive number");
        return v;
    }

    static int run(Args args, PrintStream out) throws Exception {
        int epochs = args.positiveInt("epochs"), finalEpochs = args.positiveInt("final-epochs");
        if (!args.has("validation")) throw new Args.UsageError("search needs a validation split: give --validation N (for example 5000)");
        int validation = args.intInRange("validation", 1, 50_000);
        int patience = args.intInRange("patience", 0, 1000);
        int parallel = args.intInRange("parallel", 1, 64);
        boolean classic = args.choice("variant", LenetCommand.Variant.values()) == LenetCommand.Variant.CLASSIC;
        BackendKind kind = args.choice("backend", BackendKind.values());
        long seed = args.intInRange("seed", 0, Integer.MAX_VALUE);
        float lrDecay = args.floatInRange("lr-decay", 0.001f, 1f);
        var defaults = new Combination(0.05f, args.positiveInt("batch"), args.floatInRange("momentum", 0f, 0.999f),
                args.floatInRange("weight-decay", 0f, 1f), LeNet5.Sizes.DEFAULT);
        List<Combination> grid = parseGrid(args.string("grid"), defaults);
        Path dataDir = args.has("data") ? args.existingFolder("data") : null;
        Path outDir = args.has("out") ? args.path("out")
                : Path.of("runs", "lenet-search-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        int cores = Runtime.getRuntime().availableProcessors(), threads = Math.max(1, cores / parallel);
        long t0 = System.nanoTime();
        try (Mnist mnist = Mnist.load(MnistLocator.standard().locate(dataDir))) {
            ImageDataset train = args.has("limit")
                    ? mnist.train().subset(Math.min(args.positiveInt("limit"), mnist.train().count())) : mnist.train();
            if (validation >= train.count()) throw new Args.UsageError("--validation " + validation + " leaves no training digits");
            ImageDataset.Split split = train.split(validation, seed);
            RunReport report = new RunReport(outDir, Map.of());
            out.printf(Locale.ROOT, "grid search: %d combinations of LeNet-5 %s, up to %d epochs each, early stopping after %d epochs"
                            + " without a better validation error; %d training, %d validation digits (the test set is not used);"
                            + " %d at once, %d thread%s each; writing to %s%n", grid.size(), args.string("variant"), epochs, patience,
                    split.train().length, split.validation().length, parallel, threads, threads == 1 ? "" : "s", outDir);
            List<Trial> trials = runTrials(grid, train, split, epochs, patience, lrDecay, classic, kind, seed, parallel, threads, out);
            double searchSeconds = (System.nanoTime() - t0) / 1e9;
            List<Trial> ranked = new ArrayList<>(trials);
            ranked.sort(Comparator.comparingDouble((Trial t) -> Double.isNaN(t.validationError()) ? 2 : t.validationError())
                    .thenComparingInt(Trial::index));
            out.print(table(ranked, grid));
            out.printf(Locale.ROOT, "search: %d trials in %.0f s (%.1f min)%n", trials.size(), searchSeconds, searchSeconds / 60);

            Map<String, Object> json = new LinkedHashMap<>();
            json.put("grid", args.string("grid"));
            json.put("variant", args.string("variant"));
            json.put("epochs", epochs);
            json.put("patience", patience);
            json.put("validation", split.validation().length);
            json.put("train_digits", split.train().length);
            json.put("parallel", parallel);
            json.put("threads_per_trial", threads);
            json.put("seed", seed);
            json.put("search_seconds", searchSeconds);
            json.put("trials", ranked.stream().map(LenetSearch::json).toList());
            report.writeText("search.json", Json.write(json) + "\n");

            Trial best = ranked.getFirst();
            if (Double.isNaN(best.validationError())) throw new IllegalStateException("every trial diverged; see search.json");
            out.println("best: " + best.combination().describe() + "; retraining on all " + train.count() + " training digits for "
                    + finalEpochs + " epochs, then the test set once");
            Map<String, Object> fin = retrain(best.combination(), train, mnist.test(), finalEpochs, lrDecay, classic, kind, seed,
                    report, out);
            json.put("best", json(best));
            json.put("final", fin);
            json.put("total_seconds", (System.nanoTime() - t0) / 1e9);
            report.writeText("search.json", Json.write(json) + "\n");
            out.println("wrote " + report.folder() + " (search.json, model.safetensors)");
        }
        return 0;
    }

    private static List<Trial> runTrials(List<Combination> grid, ImageDataset train, ImageDataset.Split split, int epochs,
                                         int patience, float lrDecay, boolean classic, BackendKind kind, long seed,
                                         int parallel, int threads, PrintStream out) throws Exception {
        List<Trial> trials = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "isthmus-search");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Trial>> futures = new ArrayList<>();
            for (int i = 0; i < grid.size(); i++) {
                int index = i;
                futures.add(pool.submit(() -> {
                    Trial t = trial(index, grid.get(index), train, split, epochs, patience, lrDecay, classic, kind, seed, threads);
                    synchronized (out) {
                        out.printf(Locale.ROOT, "trial %2d/%d  %s  val %s (best epoch %d of %d)  %.1f s%s%n", index + 1, grid.size(),
                                t.combination().describe(), RunReport.percent(t.validationError()), t.bestEpoch(), t.epochsRun(),
                                t.seconds(), t.note().isEmpty() ? "" : "  " + t.note());
                    }
                    return t;
                }));
            }
            for (Future<Trial> f : futures) trials.add(f.get());
        } finally {
            pool.shutdownNow();
        }
        return trials;
    }

    /** A backend for this thread with {@code threads} threads (oneDNN: OpenMP's count for the calling thread). */
    static Backend backend(BackendKind kind, int threads) {
        if (kind == BackendKind.DNNL) omp_h.omp_set_num_threads(threads);
        return kind == BackendKind.SIMD ? new SimdBackend(threads) : Backends.create(kind);
    }

    static Sequential model(boolean classic, LeNet5.Sizes sizes) {
        return classic ? LeNet5.classic(sizes) : LeNet5.relu(sizes);
    }

    static Trial trial(int index, Combination c, ImageDataset train, ImageDataset.Split split, int epochs, int patience,
                       float lrDecay, boolean classic, BackendKind kind, long seed, int threads) throws Exception {
        long t0 = System.nanoTime();
        try (Backend backend = backend(kind, threads); Sequential model = model(classic, c.sizes())) {
            model.compile(backend, c.batch(), Shape.of(1, Mnist.SIZE, Mnist.SIZE), Sequential.Mode.TRAIN, seed);
            try (var sgd = new SGD(model.parameters(), c.lr(), c.momentum(), c.weightDecay(), false);
                 var trainer = new Trainer(model, sgd, Progress.silent());
                 var loader = new BatchLoader(train, split.train(), c.batch(), seed, true, true, null)) {
                var options = new Trainer.Options(epochs, patience, LrSchedule.stepDecay(Math.max(1, epochs / 10), lrDecay), false);
                List<Trainer.EpochStats> history = trainer.fit(loader, train, split.validation(), null, options, 0, null);
                Trainer.EpochStats best = history.stream().min(Comparator.comparingDouble(Trainer.EpochStats::validationError)).orElseThrow();
                return new Trial(index, c, best.validationError(), best.validationLoss(), best.epoch(), history.size(),
                        (System.nanoTime() - t0) / 1e9, history.size() < epochs ? "stopped early" : "");
            } catch (TrainingDivergedException e) {
                return new Trial(index, c, Double.NaN, Double.NaN, 0, 0,
                        (System.nanoTime() - t0) / 1e9, "diverged: " + e.getMessage());
            }
        }
    }

    private static Map<String, Object> retrain(Combination c, ImageDataset train, ImageDataset test, int epochs, float lrDecay,
                                               boolean classic, BackendKind kind, long seed, RunReport report, PrintStream out)
            throws Exception {
        long t0 = System.nanoTime();
        int threads = Runtime.getRuntime().availableProcessors();
        try (Backend backend = backend(kind, threads); Sequential model = model(classic, c.sizes())) {
            model.compile(backend, c.batch(), Shape.of(1, Mnist.SIZE, Mnist.SIZE), Sequential.Mode.TRAIN, seed);
            try (var sgd = new SGD(model.parameters(), c.lr(), c.momentum(), c.weightDecay(), false);
                 var trainer = new Trainer(model, sgd, Progress.onStderr());
                 var loader = new BatchLoader(train, train.indices(), c.batch(), seed, true, true, null)) {
                var options = new Trainer.Options(epochs, 0, LrSchedule.stepDecay(Math.max(1, epochs / 10), lrDecay), false);
                trainer.fit(loader, train, new int[0], null, options, 0, s -> out.println(RunReport.epochLine(s, epochs)));
                Metrics m = trainer.evaluate(test, test.indices());   // the only look at the test set
                Checkpoint.save(report.file("model.safetensors"), model, sgd, Map.of("model", "LeNet-5",
                        "variant", classic ? "classic" : "relu", "sizes", c.sizes().text(), "epoch", Integer.toString(epochs)));
                double seconds = (System.nanoTime() - t0) / 1e9;
                out.printf(Locale.ROOT, "best combination retrained: test error %.2f%% (%d of %d digits), in %.0f s%n",
                        100 * m.top1Error(), m.top1Wrong(), m.count(), seconds);
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("combination", c.json());
                r.put("epochs", epochs);
                r.put("test_error", m.top1Error());
                r.put("test_errors", m.top1Wrong());
                r.put("seconds", seconds);
                return r;
            }
        }
    }

    private static Map<String, Object> json(Trial t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trial", t.index() + 1);
        m.putAll(t.combination().json());
        m.put("validation_error", Double.isFinite(t.validationError()) ? t.validationError() : null);
        m.put("validation_loss", Double.isFinite(t.validationLoss()) ? t.validationLoss() : null);
        m.put("best_epoch", t.bestEpoch());
        m.put("epochs_run", t.epochsRun());
        m.put("seconds", t.seconds());
        if (!t.note().isEmpty()) m.put("note", t.note());
        return m;
    }

    /** The ranked table: the keys that vary, validation error, epochs, seconds. */
    static String table(List<Trial> ranked, List<Combination> grid) {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%n%4s %6s %8s %6s %7s %4s %4s %4s %4s  %9s %10s %11s %7s%n",
                "rank", "trial", "lr", "batch", "moment", "c1", "c3", "c5", "f6", "val error", "best epoch", "epochs run", "seconds"));
        int rank = 1;
        for (Trial t : ranked) {
            Combination c = t.combination();
            s.append(String.format(Locale.ROOT, "%4d %6d %8s %6d %7s %4d %4d %4d %4d  %9s %10d %11d %7.1f%n", rank++, t.index() + 1,
                    c.lr(), c.batch(), c.momentum(), c.sizes().c1(), c.sizes().c3(), c.sizes().c5(), c.sizes().f6(),
                    RunReport.percent(t.validationError()), t.bestEpoch(), t.epochsRun(), t.seconds()));
        }
        return s.toString();
    }
}

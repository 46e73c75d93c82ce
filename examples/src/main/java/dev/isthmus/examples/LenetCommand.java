// `isthmus lenet`: trains LeNet-5 on MNIST (the main job) or evaluates a saved model.
// The defaults are chosen to reach the paper's 0.95% test error in one run of a few minutes
// on a 2-core machine; README.md says why each default is what it is.
package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.nn.Adam;
import dev.isthmus.engine.Communicator;
import dev.isthmus.nn.Checkpoint;
import dev.isthmus.nn.CheckpointKeys;
import dev.isthmus.nn.DataParallel;
import dev.isthmus.nn.Model;
import dev.isthmus.nn.Preprocessing;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.LrSchedule;
import dev.isthmus.nn.Metrics;
import dev.isthmus.nn.Optimizer;
import dev.isthmus.nn.Progress;
import dev.isthmus.nn.RMSProp;
import dev.isthmus.nn.SGD;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.Trainer;
import dev.isthmus.nn.TrainingDivergedException;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.Distortions;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.Mnist;
import dev.isthmus.nn.data.MnistLocator;
import dev.isthmus.nn.io.Safetensors;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Trains or evaluates LeNet-5 on MNIST. */
final class LenetCommand implements Command {
    enum Variant { CLASSIC, RELU }

    enum OptimizerName { SGD, RMSPROP, ADAM }

    static final String DEFAULT_EPOCHS = "20", DEFAULT_BATCH = "32", DEFAULT_VALIDATION = "0";

    private final Args.Spec spec = Distributed.declare(new Args.Spec()
            .description("Trains LeNet-5 (LeCun et al. 1998) on the 60,000 MNIST training digits and reports the error on\n"
                    + "the 10,000 test digits. Writes metrics.json, model.safetensors, curves.png, misclassified.png,\n"
                    + "confusion.txt and summary.txt into --out. 'eval' reports the test error of a saved model.")
            .action("train", "train a model")
            .action("eval", "evaluate a checkpoint on the test set")
            .action("show", "LeNet-5 in action: feature maps, C1 kernels, invariance to shifts, rotations, scale, noise, unusual patterns")
            .action("lr-find", "the learning-rate range test: lr-find.png and a suggested rate")
            .action("search", "grid search over learning rate, batch and layer widths with early stopping; the best retrained")
            .flag("epochs", "N", DEFAULT_EPOCHS, "epochs to train").onlyFor("train", "search")
            .flag("batch", "N", DEFAULT_BATCH, "mini-batch size")
            .flag("lr", "X", null, "learning rate (default: 0.05 for sgd, 0.001 for rmsprop and adam)").onlyFor("train", "lr-find")
            .flag("optimizer", "NAME", "sgd", "sgd (momentum 0.9), rmsprop or adam").onlyFor("train", "lr-find")
            .flag("momentum", "X", "0.9", "SGD momentum").onlyFor("train", "lr-find", "search")
            .flag("weight-decay", "X", "0.0005", "L2 weight decay").onlyFor("train", "lr-find", "search")
            .flag("lr-decay", "X", "0.7", "multiply the learning rate by X after every --lr-step epochs").onlyFor("train")
            .flag("lr-step", "N", null, "epochs between learning-rate decays (default: epochs/10, at least 1)").onlyFor("train")
            .flag("validation", "N", DEFAULT_VALIDATION, "training digits held out for validation and early stopping (0: train on all 60,000)").onlyFor("train", "search")
            .flag("patience", "N", "0", "stop after N epochs without a better validation error, keeping the best weights (0: never)").onlyFor("train", "search")
            .flag("variant", "NAME", "classic", "classic (scaled tanh, average pooling) or relu (ReLU, max pooling)").onlyFor("train", "lr-find", "search")
            .flag("backend", "NAME", "dnnl", "dnnl (oneDNN), simd (Vector API), reference (scalar), opencl or cuda")
            .flag("seed", "N", "1", "seed of initialisation, shuffling and the validation split").onlyFor("train", "lr-find", "search")
            .flag("data", "DIR", null, "folder with the MNIST IDX files (else $ISTHMUS_DATA, the cache, or npm)")
            .flag("out", "DIR", null, "output folder (default runs/lenet-<timestamp>; for show <checkpoint folder>/show)").onlyFor("train", "show", "lr-find", "search")
            .flag("resume", "FILE", null, "continue training from a checkpoint written by an earlier run").onlyFor("train")
            .bool("overwrite", "replace the earlier run in --out (refused without it)").onlyFor("train")
            .bool("reset-optimizer", "with --resume: keep the weights but start --optimizer from fresh state (to change the optimizer)").onlyFor("train")
            .flag("limit", "N", null, "train on the first N training digits only (quick checks)").onlyFor("train", "lr-find", "search")
            .bool("distort", "augment the training digits with random affine and elastic distortions (Simard et al. 2003)").onlyFor("train")
            .flag("loader-threads", "N", null, "threads preparing the batches (default: the cores the step leaves free, at least 1)").onlyFor("train")
            .bool("diagnose", "per layer and epoch: gradient norms, update/weight ratios, saturated or never-active units;\n"
                    + "warnings when a rule fires (README.md), metrics.json's \"diagnostics\", diagnostics.png").onlyFor("train")
            .flag("checkpoint", "FILE", null, "the model to evaluate or show").onlyFor("eval", "show")
            .flag("versus", "FILE", null, "a second model (say, trained with --distort) compared on the unusual patterns").onlyFor("show")
            .flag("steps", "N", "300", "steps of the range test").onlyFor("lr-find")
            .flag("lr-start", "X", "1e-4", "the range test's first learning rate").onlyFor("lr-find")
            .flag("lr-end", "X", "10", "the range test's last learning rate").onlyFor("lr-find")
            .flag("grid", "SPEC", null, "the grid: 'lr=0.01,0.05 batch=32,64 c1=6 c3=16,32 c5=120 f6=84,120' (also momentum=,\n"
                    + "weight-decay=); every combination is one trial").onlyFor("search")
            .flag("parallel", "K", "1", "trials run at once, the cores split between them").onlyFor("search")
            .flag("final-epochs", "N", DEFAULT_EPOCHS, "epochs of the best combination's retraining on all 60,000 digits").onlyFor("search")
            .flag("digits", "LIST", null, "show the first test digit of each class listed, e.g. 3,8 (default 0,...,9)").onlyFor("show")
            .flag("indices", "LIST", null, "show these test digits by index, e.g. 0,17").onlyFor("show")
            .example("lenet")
            .example("lenet --epochs 5 --optimizer adam --out runs/adam")
            .example("lenet --variant relu --backend simd")
            .example("lenet --distort --epochs 60")
            .example("lenet eval --checkpoint runs/lenet-20261127-101500/model.safetensors")
            .example("lenet show --checkpoint runs/lenet-20261127-101500/model.safetensors --digits 3,8")
            .example("lenet --ranks 2")
            .example("lenet --diagnose --lr 2 --epochs 1")
            .example("lenet lr-find")
            .example("lenet search --grid 'lr=0.01,0.05,0.1 batch=32,64 c3=16,32 f6=84,120' --epochs 5 --validation 5000 --patience 2"));

    @Override public String name() { return "lenet"; }

    @Override public String summary() { return "train LeNet-5 on MNIST (the main job), or evaluate a checkpoint"; }

    @Override public Args.Spec spec() { return spec; }

    @Override public int run(Args args, PrintStream out) throws Exception {
        return switch (args.action()) {
            case "eval" -> evaluate(args, out);
            case "show" -> LenetShow.run(args, out);
            case "lr-find" -> LenetLrFind.run(args, out);
            case "search" -> LenetSearch.run(args, out);
            default -> train(args, out);
        };
    }

    private int train(Args args, PrintStream out) throws Exception {
        if (Distributed.shouldLaunch(args)) return Distributed.launch(name(), args, out);
        return Distributed.run(args, name(), out, (comm, o) -> train(args, comm, o));
    }

    /** One rank's training (the whole of it with one rank); rank 0 alone prints and writes. */
    private int train(Args args, Communicator comm, PrintStream out) throws Exception {
        boolean root = comm.rank() == 0;
        int epochs = args.positiveInt("epochs");
        int batch = Distributed.localBatch(args, Integer.parseInt(DEFAULT_BATCH), comm.size());
        OptimizerName optName = args.choice("optimizer", OptimizerName.values());
        float lr = args.has("lr") ? args.floatInRange("lr", 1e-7f, 10f) : (optName == OptimizerName.SGD ? 0.05f : 0.001f);
        float momentum = args.floatInRange("momentum", 0f, 0.999f);
        float weightDecay = args.floatInRange("weight-decay", 0f, 1f);
        float lrDecay = args.floatInRange("lr-decay", 0.001f, 1f);
        int lrStep = args.has("lr-step") ? args.positiveInt("lr-step") : Math.max(1, epochs / 10);
        int validation = args.intInRange("validation", 0, 50_000);
        int patience = args.intInRange("patience", 0, 1000);
        if (patience > 0 && validation == 0) {
            throw new Args.UsageError("--patience needs a validation split: give --validation N (for example 5000)");
        }
        Variant variant = args.choice("variant", Variant.values());
        BackendKind kind = args.choice("backend", BackendKind.values());
        long seed = args.intInRange("seed", 0, Integer.MAX_VALUE);
        Path outDir = args.has("out") ? args.path("out")
                : Path.of("runs", "lenet-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Path resume = args.has("resume") ? args.existingFile("resume") : null;
        Path dataDir = args.has("data") ? args.existingFolder("data") : null;
        if (args.bool("reset-optimizer") && resume == null) throw new Args.UsageError("--reset-optimizer applies only with --resume");
        if (resume != null) variant = resumedVariant(resume, args, variant);
        String variantName = Args.cliName(variant);
        // The host backends run the step on every core.
        int loaderThreads = args.has("loader-threads") ? args.intInRange("loader-threads", 1, BatchLoader.MAX_THREADS)
                : BatchLoader.defaultThreads(Runtime.getRuntime().availableProcessors());

        Distortions distortions = args.bool("distort") ? Distortions.mnist() : null;
        if (distortions != null) { // compiles the kernels on a spare core while MNIST loads and the model compiles
            Thread.ofPlatform().daemon().name("isthmus-distort-warm-up")
                    .start(() -> distortions.warmUp(1, Mnist.SIZE, Mnist.SIZE, 3000));
        }
        long t0 = System.nanoTime();
        try (Mnist mnist = Mnist.load(MnistLocator.standard().locate(dataDir));
             Backend backend = Backends.create(kind);
             Sequential model = variant == Variant.CLASSIC ? LeNet5.classic() : LeNet5.relu()) {
            ImageDataset train = args.has("limit")
                    ? mnist.train().subset(Math.min(args.positiveInt("limit"), mnist.train().count())) : mnist.train();
            if (validation >= train.count()) {
                throw new Args.UsageError("--validation " + validation + " leaves no training digits of " + train.count());
            }
            ImageDataset.Split split = train.split(validation, seed);
            model.compile(backend, batch, Shape.of(1, Mnist.SIZE, Mnist.SIZE), Sequential.Mode.TRAIN, seed);
            // the model-file description: `./isthmus serve --model .../model.safetensors` rebuilds the model from it
            Map<String, String> described = Model.metadata("LeNet-5 " + variantName, model,
                    Shape.of(1, Mnist.SIZE, Mnist.SIZE), null, Preprocessing.mnist());
            Map<String, Object> config = new LinkedHashMap<>();
            config.put("model", "LeNet-5 " + variantName);
            config.put("parameters", model.parameters().count());
            config.put("backend", backend.describe());
            config.put("fused", model.fusions());
            config.put("epochs", epochs);
            config.put("batch", batch);
            if (comm.size() > 1) {
                config.put("ranks", comm.size());
                config.put("global_batch", batch * comm.size());
            }
            config.put("optimizer", args.string("optimizer"));
            config.put("lr", (double) lr);
            if (optName == OptimizerName.SGD) config.put("momentum", (double) momentum);
            config.put("weight_decay", (double) weightDecay);
            config.put("lr_schedule", "x" + lrDecay + " every " + lrStep + " epochs");
            config.put("validation", validation);
            config.put("patience", patience);
            config.put("seed", seed);
            config.put("train_digits", split.train().length);
            config.put("augmentation", distortions == null ? "none" : distortions.describe());
            config.put("loader_threads", loaderThreads);
            if (resume != null) config.put("resumed_from", resume.toString());
            if (root) RunFolder.prepare(outDir, args.bool("overwrite"), resume, out);
            RunReport report = root ? new RunReport(outDir, config) : null;
            out.printf(Locale.ROOT, "LeNet-5 (%s, %,d parameters) on %s; %d training, %d validation, %d test digits%n",
                    variantName, model.parameters().count(), backend.describe(),
                    split.train().length, split.validation().length, mnist.test().count());
            out.printf(Locale.ROOT, "%s lr %s, batch %d, %d epochs; writing to %s%n",
                    args.string("optimizer"), lr, batch, epochs, outDir);

            Progress progress = root ? Progress.onStderr() : Progress.silent();
            try (Optimizer optimizer = optimizer(optName, model, lr, momentum, weightDecay);
                 Trainer trainer = new Trainer(model, optimizer, progress);
                 RunInterrupt interrupt = root ? RunInterrupt.install(progress, outDir.resolve("model.safetensors"), System.err) : null;
                 BatchLoader loader = new BatchLoader(train, split.train(), batch, seed, true, true, distortions, loaderThreads,
                         comm.rank(), comm.size())) {
                DataParallel parallel = new DataParallel(comm, model);
                trainer.dataParallel(parallel);
                if (comm.size() > 1) {
                    out.printf(Locale.ROOT, "data-parallel: %d ranks x batch %d = global batch %d (lr %s applies to its mean gradient); %s%n",
                            comm.size(), batch, batch * comm.size(), lr, parallel.describe());
                }
                int start = 0;
                if (resume != null && root) {   // rank 0 reads the checkpoint; its weights, state and epoch go to all below
                    Map<String, String> meta = readMetadata(resume);
                    CheckpointKeys.requireSame(resume, meta, PREPROCESSING_KEY, PREPROCESSING, null);
                    if (args.bool("reset-optimizer")) {
                        Checkpoint.loadWeights(resume, model);
                        out.printf("--reset-optimizer: the checkpoint's %s state is dropped; %s starts from fresh state%n",
                                meta.getOrDefault(CheckpointKeys.OPTIMIZER_NAME, "optimizer"), args.string("optimizer"));
                    } else {
                        Checkpoint.load(resume, model, optimizer);
                    }
                    start = CheckpointKeys.nonNegativeInt(resume, meta, "epoch", 0);
                    if (meta.containsKey(Checkpoint.LR) && !args.bool("reset-optimizer")) {
                        optimizer.setLr(CheckpointKeys.positiveFloat(resume, meta, Checkpoint.LR));
                    }
                    out.printf("resumed from %s after epoch %d (lr %s)%n", resume, start, optimizer.lr());
                    interrupt.saved(start);
                    RunFolder.history(resume, start).forEach(report::add);   // metrics.json and curves.png keep them
                }
                start = parallel.broadcastInt(start);
                parallel.broadcastFromRoot(optimizer);
                if (resume != null) {
                    if (start >= epochs) throw new Args.UsageError("--resume: the checkpoint is already at epoch " + start + " of --epochs " + epochs);
                }
                Path checkpoint = outDir.resolve("model.safetensors");
                var options = new Trainer.Options(epochs, patience, LrSchedule.stepDecay(lrStep, lrDecay), true);
                DiagnosticsReport diagnostics = args.bool("diagnose")
                        ? DiagnosticsReport.attach(model, trainer, loader.batchesPerEpoch()) : null;
                try {
                    trainer.fit(loader, train, split.validation(), mnist.test(), options, start, stats -> {
                        report.add(stats, loader.lastEpoch());
                        out.println(RunReport.epochLine(stats, epochs) + RunReport.dataWait(loader.lastEpoch(), stats.seconds()));
                        if (diagnostics != null) diagnostics.afterEpoch(report, "LeNet-5 on MNIST", stats.seconds(), out);
                        Checkpoint.save(checkpoint, model, optimizer, with(described, Map.of(
                                "epoch", Integer.toString(stats.epoch()), "variant", variantName,
                                "model", "LeNet-5", PREPROCESSING_KEY, PREPROCESSING)));
                        interrupt.saved(stats.epoch());
                        report.writeMetrics(Map.of());
                        report.writeCurves("LeNet-5 on MNIST");
                    });
                } catch (TrainingDivergedException e) {
                    if (diagnostics != null) {
                        diagnostics.onDiverged(e.epoch(), report, "LeNet-5 on MNIST", out);
                        report.writeMetrics(Map.of("diverged", e.getMessage()));
                    }
                    throw new IllegalStateException(e.getMessage() + (Files.exists(checkpoint)
                            ? "; the last good checkpoint is " + checkpoint : ""), e);
                }
                if (root) out.println(report.loaderSummary());
                if (trainer.restoreBest() && root) {
                    out.println("restored the weights of the best validation epoch");
                    Checkpoint.save(checkpoint, model, optimizer, with(described, Map.of("variant", variantName, "model", "LeNet-5",
                            PREPROCESSING_KEY, PREPROCESSING,
                            "epoch", Integer.toString(report.epochs().getLast().epoch()))));
                }
                Metrics test = trainer.evaluate(mnist.test(), mnist.test().indices());
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (comm.size() > 1) out.println(communication(parallel));
                if (root) finish(report, mnist.test(), test, seconds, out);
            }
        }
        return 0;
    }

    /** "communication: 1.2 ms per step exposed of 10.3 ms backward + allreduce (12%), 1875 steps". */
    static String communication(DataParallel p) {
        return String.format(Locale.ROOT, "communication: %.2f ms per step exposed (in MPI with nothing else to do) of %.2f ms"
                + " backward + allreduce (%.0f%%), over %d steps", p.exposedSecondsPerStep() * 1e3, p.backwardSecondsPerStep() * 1e3,
                100 * p.exposedSecondsPerStep() / Math.max(1e-12, p.backwardSecondsPerStep()), p.steps());
    }

    private static Map<String, String> with(Map<String, String> a, Map<String, String> b) {
        Map<String, String> m = new LinkedHashMap<>(a);
        m.putAll(b);
        return m;
    }

    /** How the digits reach the network (Mnist's padding and scaling): stored, and checked on --resume and eval. */
    static final String PREPROCESSING_KEY = "preprocessing.input";
    static final String PREPROCESSING = "mnist " + Mnist.SIZE + "x" + Mnist.SIZE + " (28x28 padded by " + Mnist.PAD
            + "), p/255 mapped to [" + Mnist.BACKGROUND + ", " + Mnist.FOREGROUND + "]";

    /** The checkpoint's variant; an explicit --variant that differs is refused with both named. */
    static Variant resumedVariant(Path resume, Args args, Variant given) throws IOException {
        String saved = readMetadata(resume).get("variant");
        if (saved == null) return given;
        Variant v = null;
        for (Variant c : Variant.values()) if (Args.cliName(c).equals(saved)) v = c;
        if (v == null) throw new IllegalArgumentException(resume + ": key variant is " + saved + ", expected classic or relu");
        if (args.has("variant") && v != given) {
            throw new Args.UsageError("--resume: " + resume + " is LeNet-5 " + saved + ", not --variant " + Args.cliName(given));
        }
        return v;
    }

    private static Map<String, String> readMetadata(Path file) throws IOException {
        try (Safetensors st = Safetensors.read(file)) {
            return Map.copyOf(st.metadata());
        }
    }

    static Optimizer optimizer(OptimizerName name, Sequential model, float lr, float momentum, float weightDecay) {
        return switch (name) {
            case SGD -> new SGD(model.parameters(), lr, momentum, weightDecay, false);
            case RMSPROP -> new RMSProp(model.parameters(), lr, 0.99f, 1e-8f, weightDecay, 0f);
            case ADAM -> new Adam(model.parameters(), lr, 0.9f, 0.999f, 1e-8f, weightDecay, false);
        };
    }

    private static void finish(RunReport report, ImageDataset test, Metrics m, double seconds, PrintStream out) throws Exception {
        int[] indices = test.indices();
        int wrong = report.writeMisclassified(test, indices, m, 120);
        report.writeText("confusion.txt", "MNIST test set, " + m.count() + " digits: rows are the true digit, columns the prediction\n\n"
                + m.confusionText());
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("test_error", m.top1Error());
        result.put("test_errors", wrong);
        result.put("test_top5_error", m.top5Error());
        result.put("test_loss", m.loss());
        result.put("total_seconds", seconds);
        report.writeMetrics(result);
        report.writeCurves("LeNet-5 on MNIST");
        String line = String.format(Locale.ROOT, "test error %.2f%% (%d of %d digits), top-5 error %.2f%%, in %.0f s",
                100 * m.top1Error(), wrong, m.count(), 100 * m.top5Error(), seconds);
        report.writeText("summary.txt", line + "\n" + "files: metrics.json model.safetensors curves.png misclassified.png confusion.txt\n");
        out.println(line);
        out.println("wrote " + report.folder());
    }

    private int evaluate(Args args, PrintStream out) throws Exception {
        Path file = args.existingFile("checkpoint");
        int batch = args.positiveInt("batch");
        BackendKind kind = args.choice("backend", BackendKind.values());
        Path dataDir = args.has("data") ? args.existingFolder("data") : null;
        Map<String, String> meta = readMetadata(file);
        String variant = meta.getOrDefault("variant", "classic");
        if (!variant.equals("classic") && !variant.equals("relu")) {
            throw new IllegalArgumentException(file + ": key variant is " + variant + ", expected classic or relu");
        }
        CheckpointKeys.requireSame(file, meta, PREPROCESSING_KEY, PREPROCESSING, "the digits would be read differently from training");
        try (Mnist mnist = Mnist.load(MnistLocator.standard().locate(dataDir));
             Backend backend = Backends.create(kind);
             Sequential model = variant.equals("relu") ? LeNet5.relu() : LeNet5.classic()) {
            model.compile(backend, batch, Shape.of(1, Mnist.SIZE, Mnist.SIZE), Sequential.Mode.INFERENCE, 0);
            Checkpoint.load(file, model, null);
            try (Trainer evaluator = new Trainer(model, null, Progress.silent())) {
                Metrics m = evaluator.evaluate(mnist.test(), mnist.test().indices());
                out.printf(Locale.ROOT, "%s (LeNet-5 %s): test error %.2f%% (%d of %d), top-5 error %.2f%%, loss %.4f%n",
                        file, variant, 100 * m.top1Error(), m.top1Wrong(), m.count(), 100 * m.top5Error(), m.loss());
            }
            CompileReport.print(out, model, false);
        }
        return 0;
    }
}

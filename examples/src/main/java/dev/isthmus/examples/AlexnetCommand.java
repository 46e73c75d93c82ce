// `isthmus alexnet`: trains AlexNet (Krizhevsky et al. 2012) on an image folder, evaluates a
// checkpoint with centre or ten crops, or finds the training images nearest to a query in the
// 4096-d fc7 feature space (the paper's figure 4). `--synthetic` generates a small Shapes folder
// so that the whole pipeline runs anywhere in minutes, at full 227x227 resolution.
package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.nn.Adam;
import dev.isthmus.nn.AlexNet;
import dev.isthmus.engine.Communicator;
import dev.isthmus.nn.Checkpoint;
import dev.isthmus.nn.LrFinder;
import dev.isthmus.nn.CheckpointKeys;
import dev.isthmus.nn.DataParallel;
import dev.isthmus.nn.LrSchedule;
import dev.isthmus.nn.Metrics;
import dev.isthmus.nn.ModelSummary;
import dev.isthmus.nn.Optimizer;
import dev.isthmus.nn.Progress;
import dev.isthmus.nn.SGD;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.Trainer;
import dev.isthmus.nn.TrainingDivergedException;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.ImageFolder;
import dev.isthmus.nn.data.RgbPca;
import dev.isthmus.nn.data.Shapes;
import dev.isthmus.nn.io.Safetensors;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/** Trains, evaluates or queries AlexNet on an image folder. */
final class AlexnetCommand implements Command {
    enum Variant { PAPER, MODERN }

    /** Synthetic data: classes, and the side the images are generated and stored at (the paper's 256). */
    static final int SYNTHETIC_CLASSES = 10, STORED_SIDE = ImageFolder.DEFAULT_SIZE;

    /** --synthetic defaults: images per class (a tenth held out), batch, epochs. */
    static final int SYNTHETIC_PER_CLASS = 66, SYNTHETIC_BATCH = 16, SYNTHETIC_EPOCHS = 5;

    private final Args.Spec spec = Distributed.declare(new Args.Spec()
            .description("AlexNet (Krizhevsky, Sutskever, Hinton 2012) on an image folder (DIR/<class>/<image>, as torchvision's\n"
                    + "ImageFolder): images resized to a shorter side of 256, random 227x227 crops (224 for --variant modern)\n"
                    + "with mirroring and the paper's PCA colour shift, the mean subtracted; SGD with momentum and weight\n"
                    + "decay (or Adam); the learning rate divided by 10 when the validation error stops improving. Per epoch: top-1\n"
                    + "and top-5 error on training and validation images, images/s; writes model.safetensors, metrics.json,\n"
                    + "curves.png, confusion.txt and summary.txt into --out. 'eval' scores a checkpoint on a folder; 'similar'\n"
                    + "shows the training images whose fc7 features (4096, after ReLU) are nearest to a query image's (the\n"
                    + "paper's figure 4).\n"
                    + "--synthetic generates the easy Shapes folder instead ('isthmus shapes --easy': 10 distinct shapes, dark on\n"
                    + "light, large, nearly upright, little noise), " + SYNTHETIC_PER_CLASS + " images per class at 256x256 of which a tenth are held out\n"
                    + "for validation (590 training, 70 validation images), in a temporary folder, and trains the full-size\n"
                    + "network at full resolution on it: --epochs " + SYNTHETIC_EPOCHS + " --batch " + SYNTHETIC_BATCH + " (36 steps an epoch) --optimizer adam --lr 3e-4\n"
                    + "--weight-decay 0.0005 --warmup 20 --lr-patience 3 --init he --input unit, dropout 0.5 as in the paper.\n"
                    + "The validation top-1 error falls from chance (90%) to about 60% after one epoch, 30% after two and 10%\n"
                    + "or less after three to five (2.5 to 4 minutes on two cores, at 15-25 images/s); SGD (--optimizer sgd\n"
                    + "--lr 0.01 --momentum 0.9) also learns, more slowly (about 50% after two epochs, 15% after four).\n"
                    + "The paper's own recipe (N(0, 0.01) weights with biases 1, raw pixels) is tuned for 1000 classes and\n"
                    + "batch 128: with 10 classes one step moves every logit by about lr x |fc7|^2 x 0.1, about 8 at lr 0.01,\n"
                    + "and training diverges or stalls at chance. Give any flag to change its default. The default (hard)\n"
                    + "Shapes images ('isthmus shapes', then --data) need far more steps than a few epochs of 590 images.")
            .action("train", "train a model")
            .action("eval", "evaluate a checkpoint on an image folder")
            .action("similar", "the images of --data nearest to --query in fc7 feature space")
            .action("lr-find", "the learning-rate range test on the training set up as for train: lr-find.png and a suggested rate")
            .flag("data", "DIR", null, "image folder, one subfolder per class (train: unless --synthetic)")
            .flag("val", "DIR", null, "validation image folder with the same classes (default: hold out --val-fraction of --data)").onlyFor("train", "lr-find")
            .flag("val-fraction", "X", "0.1", "fraction of each class held out for validation when --val is not given").onlyFor("train", "lr-find")
            .bool("synthetic", "train on a generated easy 10-class Shapes folder (in a hidden folder of --out, deleted afterwards)").onlyFor("train", "lr-find")
            .flag("per-class", "N", Integer.toString(SYNTHETIC_PER_CLASS), "images per class of --synthetic (a tenth held out for validation)").onlyFor("train", "lr-find")
            .flag("variant", "NAME", "paper", "paper (227x227, LRN, two-group convolutions, N(0, 0.01) init) or modern (torchvision's)").onlyFor("train", "lr-find")
            .flag("epochs", "N", "10", "epochs to train (" + SYNTHETIC_EPOCHS + " with --synthetic)").onlyFor("train")
            .flag("batch", "N", "32", "mini-batch size (the paper's 128 needs memory and time; any size >= 1 works); " + SYNTHETIC_BATCH + " for\n"
                    + "training with --synthetic, for more steps per epoch")
            .flag("init", "NAME", null, "weights: 'variant' (the paper's N(0, 0.01) with biases 1; PyTorch's default for modern) or 'he'\n"
                    + "(He normal, biases 0; the logit layer N(0, 0.01)); default he with --synthetic, else variant").onlyFor("train", "lr-find")
            .flag("input", "NAME", null, "input scale: 'raw' (pixels 0..255 minus the mean, the paper's) or 'unit' (also divided by the\n"
                    + "pixel std, as torchvision); default raw for --variant paper on --data, else unit").onlyFor("train", "lr-find")
            .flag("optimizer", "NAME", null, "sgd (with --momentum and --weight-decay, the paper's) or adam (PyTorch's Adam, betas 0.9 and\n"
                    + "0.999, L2 --weight-decay); default adam with --synthetic, else sgd").onlyFor("train", "lr-find")
            .flag("lr", "X", null, "learning rate (default 0.01 for sgd, 3e-4 for adam)").onlyFor("train", "lr-find")
            .flag("warmup", "N", null, "steps over which the learning rate rises linearly to --lr (default 20 with --synthetic, else 0)").onlyFor("train", "lr-find")
            .flag("momentum", "X", "0.9", "SGD momentum").onlyFor("train", "lr-find")
            .flag("weight-decay", "X", "0.0005", "L2 weight decay").onlyFor("train", "lr-find")
            .flag("lr-patience", "N", null, "epochs without a better validation error before the learning rate is divided by 10\n"
                    + "(default 3 with --synthetic, else 1)").onlyFor("train", "lr-find")
            .flag("loader-threads", "N", null, "threads decoding and cropping the batches (default: the cores the step leaves free, at\n"
                    + "least 1)").onlyFor("train", "lr-find")
            .flag("cache-mb", "N", "4096", "memory for decoded, resized images (MiB): images are decoded on the loader threads when\n"
                    + "first needed and kept while they fit, so later epochs decode nothing").onlyFor("train", "lr-find")
            .bool("preload", "decode every image before training instead (all kept in memory, whatever --cache-mb)").onlyFor("train", "lr-find")
            .flag("backend", "NAME", "dnnl", "dnnl, simd, opencl or reference")
            .flag("seed", "N", "1", "seed of initialisation, dropout, shuffling, crops and the validation split").onlyFor("train", "lr-find")
            .flag("out", "DIR", null, "output folder (train: default runs/alexnet-<timestamp>; similar: the checkpoint's folder)").onlyFor("train", "similar", "lr-find")
            .flag("resume", "FILE", null, "continue training from a checkpoint written by an earlier run").onlyFor("train")
            .bool("diagnose", "per layer and epoch: gradient norms, update/weight ratios, never-active ReLU units; warnings\n"
                    + "when a rule fires (README.md), metrics.json's \"diagnostics\", diagnostics.png").onlyFor("train")
            .flag("steps", "N", "100", "steps of the range test").onlyFor("lr-find")
            .flag("lr-start", "X", "1e-6", "the range test's first learning rate").onlyFor("lr-find")
            .flag("lr-end", "X", "1", "the range test's last learning rate").onlyFor("lr-find")
            .bool("overwrite", "replace the earlier run in --out (refused without it)").onlyFor("train", "lr-find")
            .bool("reset-optimizer", "with --resume: keep the weights but start --optimizer from fresh state (to change the optimizer)").onlyFor("train")
            .bool("ten-crop", "also evaluate with the paper's ten crops (corners, centre, mirrored), averaging the softmax").onlyFor("train", "eval")
            .bool("summary", "print the per-layer table (1000 classes) of --variant and exit").onlyFor("train")
            .flag("checkpoint", "FILE", null, "the model to use").onlyFor("eval", "similar")
            .flag("query", "IMAGE", null, "the query image (any JPEG or PNG)").onlyFor("similar")
            .flag("neighbours", "N", "6", "how many nearest images to show").onlyFor("similar")
            .example("alexnet --synthetic")
            .example("alexnet --synthetic --optimizer sgd --lr 0.01 --variant modern")
            .example("alexnet --summary --variant modern")
            .example("alexnet lr-find --synthetic")
            .example("alexnet --synthetic --diagnose")
            .example("alexnet --data ~/imagenet-subset --epochs 30 --batch 128 --ten-crop")
            .example("alexnet eval --checkpoint runs/alexnet-20261127-101500/model.safetensors --data data/shapes --ten-crop")
            .example("alexnet similar --checkpoint runs/alexnet-20261127-101500/model.safetensors --data data/shapes --query q.png")
            .example("alexnet --synthetic --variant modern --ranks 2"));

    @Override public String name() { return "alexnet"; }

    @Override public String summary() { return "train AlexNet on an image folder (or --synthetic shapes); eval; fc7 nearest neighbours"; }

    @Override public Args.Spec spec() { return spec; }

    @Override public int run(Args args, PrintStream out) throws Exception {
        return switch (args.action()) {
            case "eval" -> evaluate(args, out);
            case "similar" -> SimilarImages.run(args, out);
            case "lr-find" -> train(args, out);
            default -> args.bool("summary") ? summary(args, out) : train(args, out);
        };
    }

    static Sequential model(Variant variant, int classes) {
        return variant == Variant.PAPER ? AlexNet.paper(classes) : AlexNet.modern(classes);
    }

    static int crop(Variant variant) { return variant == Variant.PAPER ? AlexNet.PAPER_SIZE : AlexNet.MODERN_SIZE; }

    static Variant variant(String name) {
        return name.equals("modern") ? Variant.MODERN : Variant.PAPER;
    }

    private int summary(Args args, PrintStream out) {
        Variant variant = args.choice("variant", Variant.values());
        int side = crop(variant);
        out.printf(Locale.ROOT, "AlexNet (%s), 1000 classes, input (3, %d, %d)%n", args.string("variant"), side, side);
        out.print(ModelSummary.of(model(variant, 1000), Shape.of(3, side, side)).table());
        BackendKind kind = args.choice("backend", BackendKind.values());
        try (Backend backend = Backends.create(kind)) {
            CompileReport.compileAndPrint(out, () -> model(variant, 1000), backend, Shape.of(3, side, side), new int[] {1, 32});
        }
        return 0;
    }

    private int train(Args args, PrintStream out) throws Exception {
        if (Distributed.shouldLaunch(args)) return Distributed.launch(name(), args, out);
        return Distributed.run(args, name(), out, (comm, o) -> train(args, comm, o));
    }

    /**
     * One rank's training (the whole of it with one rank): each rank trains on its shard of every
     * epoch; validation runs whole on every rank (the same weights give the same metrics), rank 0
     * alone prints and writes.
     */
    private int train(Args args, Communicator comm, PrintStream out) throws Exception {
        boolean root = comm.rank() == 0;
        int epochs = args.bool("synthetic") && !args.has("epochs") ? SYNTHETIC_EPOCHS : args.positiveInt("epochs");
        boolean synthetic = args.bool("synthetic");
        int batch = Distributed.localBatch(args, synthetic ? SYNTHETIC_BATCH : Integer.parseInt(args.string("batch")), comm.size());
        boolean adam = args.has("optimizer") ? oneOf(args, "optimizer", "sgd", "adam").equals("adam") : synthetic;
        float lr = args.has("lr") ? args.floatInRange("lr", 1e-7f, 10f) : adam ? 3e-4f : 0.01f;
        float momentum = args.floatInRange("momentum", 0f, 0.999f);
        float weightDecay = args.floatInRange("weight-decay", 0f, 1f);
        BackendKind kind = args.choice("backend", BackendKind.values());
        long seed = args.intInRange("seed", 0, Integer.MAX_VALUE);
        int lrPatience = args.has("lr-patience") ? args.intInRange("lr-patience", 0, 1000) : synthetic ? 3 : 1;
        int warmup = args.has("warmup") ? args.intInRange("warmup", 0, 1_000_000) : synthetic ? 20 : 0;
        boolean heInit = args.has("init") ? oneOf(args, "init", "variant", "he").equals("he") : synthetic;
        if (synthetic == args.has("data")) {
            throw new Args.UsageError(synthetic ? "give either --data or --synthetic, not both" : "give --data DIR (an image folder) or --synthetic");
        }
        if (args.has("val") && args.has("val-fraction")) throw new Args.UsageError("give either --val or --val-fraction, not both");
        if (args.has("per-class") && !synthetic) throw new Args.UsageError("--per-class applies only with --synthetic");
        Path dataDir = synthetic ? null : args.existingFolder("data");
        Path valDir = args.has("val") ? args.existingFolder("val") : null;
        double valFraction = args.floatInRange("val-fraction", 0f, 0.9f);
        int perClass = args.intInRange("per-class", 2, 9999);
        Path resume = args.has("resume") ? args.existingFile("resume") : null;
        if (args.bool("reset-optimizer") && resume == null) throw new Args.UsageError("--reset-optimizer applies only with --resume");
        Variant variant = args.choice("variant", Variant.values());
        if (resume != null) {
            String saved = metadata(resume).getOrDefault("variant", "paper");
            if (args.has("variant") && !saved.equals(args.string("variant"))) {
                throw new Args.UsageError("--resume: the checkpoint is AlexNet " + saved + ", not --variant " + args.string("variant"));
            }
            variant = variant(saved);
        }
        boolean unitInput = args.has("input") ? oneOf(args, "input", "raw", "unit").equals("unit")
                : synthetic || variant == Variant.MODERN;
        String variantName = Args.cliName(variant);
        int side = crop(variant);
        Path outDir = args.has("out") ? args.path("out")
                : Path.of("runs", "alexnet-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));

        if (root) RunFolder.prepare(outDir, args.bool("overwrite"), resume, out);   // the other ranks write nothing there
        long t0 = System.nanoTime();
        Path generated = null;
        Thread cleanup = null;   // deletes the generated folder when the run is interrupted (Ctrl-C)
        try {
            if (synthetic) {
                // under the run: a kill -9 leaves it where the next start removes it (the other ranks' in the temporary folder)
                generated = root ? RunFolder.scratchFolder(outDir, "shapes") : Files.createTempDirectory("isthmus-shapes-");
                Path folder = generated;
                cleanup = new Thread(() -> deleteTree(folder), "isthmus-cleanup");
                Runtime.getRuntime().addShutdownHook(cleanup);
                long g0 = System.nanoTime();
                Shapes.write(generated, SYNTHETIC_CLASSES, perClass, STORED_SIDE, seed, Shapes.Difficulty.EASY);
                out.printf(Locale.ROOT, "generated %d classes x %d easy Shapes images of %dx%d in %s (%.1f s)%n", SYNTHETIC_CLASSES,
                        perClass, STORED_SIDE, STORED_SIDE, generated, (System.nanoTime() - g0) / 1e9);
                dataDir = generated;
            }
            int threads = Math.min(4, Runtime.getRuntime().availableProcessors());
            // The host backends run the step on every core.
            int loaderThreads = args.has("loader-threads") ? args.intInRange("loader-threads", 1, BatchLoader.MAX_THREADS)
                    : BatchLoader.defaultThreads(Runtime.getRuntime().availableProcessors());
            long cacheBytes = (long) args.intInRange("cache-mb", 0, Integer.MAX_VALUE) << 20;
            boolean preload = args.bool("preload");
            try (ImageFolder data = preload ? ImageFolder.load(dataDir, STORED_SIDE, threads)
                         : ImageFolder.open(dataDir, STORED_SIDE, threads, cacheBytes);
                 ImageFolder val = valDir == null ? null : preload ? ImageFolder.load(valDir, STORED_SIDE, threads)
                         : ImageFolder.open(valDir, STORED_SIDE, threads, cacheBytes);
                 Backend backend = Backends.create(kind);
                 Sequential model = heInit ? AlexNet.heInit(model(variant, data.classes().size()))
                         : model(variant, data.classes().size())) {
                if (data.classes().size() < 2) throw new Args.UsageError("--data: need at least 2 class folders, found " + data.classes());
                if (val != null && !val.classes().equals(data.classes())) {
                    throw new Args.UsageError("--val: its classes " + val.classes() + " differ from --data's " + data.classes());
                }
                ImageDataset.Split split = val == null ? data.split(valFraction, seed)
                        : new ImageDataset.Split(data.indices(), val.indices());
                ImageFolder valFolder = val == null ? data : val;
                int[] trainIdx = split.train(), valIdx = split.validation();
                if (trainIdx.length < batch) {
                    throw new Args.UsageError("--batch " + batch + " exceeds the " + trainIdx.length + " training images");
                }
                float[] mean = data.mean(trainIdx);
                float scale = unitInput ? 1f / data.std(trainIdx, mean) : 1f;
                RgbPca pca = data.pca(trainIdx, 1000, seed);
                model.compile(backend, batch, Shape.of(3, side, side), Sequential.Mode.TRAIN, seed);

                Map<String, Object> config = new LinkedHashMap<>();
                config.put("model", "AlexNet " + variantName);
                config.put("parameters", model.parameters().count());
                config.put("backend", backend.describe());
                config.put("fused", model.fusions());
                config.put("data", synthetic ? "synthetic Shapes (easy), " + SYNTHETIC_CLASSES + " x " + perClass : dataDir.toString());
                config.put("classes", data.classes());
                config.put("train_images", trainIdx.length);
                config.put("validation_images", valIdx.length);
                config.put("input", List.of(3, side, side));
                config.put("epochs", epochs);
                config.put("batch", batch);
                if (comm.size() > 1) {
                    config.put("ranks", comm.size());
                    config.put("global_batch", batch * comm.size());
                }
                config.put("init", heInit ? "he" : "variant");
                config.put("input_scale", (double) scale);
                config.put("optimizer", adam ? "adam" : "sgd");
                config.put("lr", (double) lr);
                config.put("warmup_steps", warmup);
                if (!adam) config.put("momentum", (double) momentum);
                config.put("weight_decay", (double) weightDecay);
                LrSchedule schedule = LrSchedule.reduceOnPlateau(0.1f, lrPatience, 1e-6f);
                config.put("lr_schedule", schedule.describe());
                config.put("seed", seed);
                config.put("mean_rgb", new double[] {mean[0], mean[1], mean[2]});
                config.put("augmentation", "random " + side + " crops of " + STORED_SIDE + ", mirroring, PCA colour shift (std 0.1)");
                config.put("loader_threads", loaderThreads);
                config.put("decoding", preload ? "all at load" : "on the loader threads, cache " + (cacheBytes >> 20) + " MiB");
                if (resume != null) config.put("resumed_from", resume.toString());
                RunReport report = root ? new RunReport(outDir, config) : null;
                out.printf(Locale.ROOT, "AlexNet %s (%,d parameters) on %s%n", variantName, model.parameters().count(), backend.describe());
                out.printf(Locale.ROOT, "%d classes; %d training, %d validation images; input %dx%d, (pixel - mean) x %.4g; %s init;"
                        + " batch %d, %s lr %s (warm-up %d steps)%s, weight decay %s%n",
                        data.classes().size(), trainIdx.length, valIdx.length, side, side, scale, heInit ? "He" : variantName + "'s",
                        batch, adam ? "Adam" : "SGD", lr, warmup, adam ? "" : ", momentum " + momentum, weightDecay);
                out.println("writing to " + outDir);

                var trainT = ImageFolder.Transform.train(side, mean, pca, scale);
                var centre = ImageFolder.Transform.center(side, mean, scale);
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("model", "AlexNet");
                meta.put("variant", variantName);
                meta.put("classes", String.join(",", data.classes()));
                meta.put("mean", mean[0] + "," + mean[1] + "," + mean[2]);
                meta.put("scale", Float.toString(scale));
                meta.put("seed", Long.toString(seed));
                List<Map<String, Object>> top5 = new ArrayList<>();
                Progress progress = root ? Progress.onStderr() : Progress.silent();
                try (Optimizer sgd = adam ? new Adam(model.parameters(), lr, 0.9f, 0.999f, 1e-8f, weightDecay, false)
                        : new SGD(model.parameters(), lr, momentum, weightDecay, false);
                     Trainer trainer = new Trainer(model, sgd, progress);
                     RunInterrupt interrupt = root ? RunInterrupt.install(progress, outDir.resolve("model.safetensors"), System.err) : null;
                     BatchLoader loader = data.loader(trainIdx, batch, seed, trainT, true, true, loaderThreads, comm.rank(), comm.size());
                     BatchLoader valLoader = valIdx.length == 0 ? null
                             : valFolder.loader(valIdx, batch, 0, centre, false, false, loaderThreads)) {
                    if (args.action().equals("lr-find")) return lrFind(args, model, sgd, loader, report, variantName, adam, lr, out);
                    DataParallel parallel = new DataParallel(comm, model);
                    trainer.dataParallel(parallel);
                    if (comm.size() > 1) {
                        out.printf(Locale.ROOT, "data-parallel: %d ranks x batch %d = global batch %d (lr %s applies to its mean gradient); %s%n",
                                comm.size(), batch, batch * comm.size(), lr, parallel.describe());
                    }
                    int start = 0;
                    if (resume != null && root) {   // rank 0 reads the checkpoint; its weights, state and epoch go to all below
                        Map<String, String> saved = metadata(resume);
                        // The preprocessing must be this run's: other pixels would meet weights trained on these.
                        CheckpointKeys.requireSame(resume, saved, "mean", meta.get("mean"), "the training images' mean differs: other --data?");
                        CheckpointKeys.requireSame(resume, saved, "scale", meta.get("scale"), "another --input scaling than the checkpoint's");
                        if (args.bool("reset-optimizer")) {
                            Checkpoint.loadWeights(resume, model);
                            out.printf("--reset-optimizer: the checkpoint's %s state is dropped; %s starts from fresh state%n",
                                    saved.getOrDefault(CheckpointKeys.OPTIMIZER_NAME, "optimizer"), adam ? "adam" : "sgd");
                        } else {
                            Checkpoint.load(resume, model, sgd);
                            if (saved.containsKey(Checkpoint.LR)) sgd.setLr(CheckpointKeys.positiveFloat(resume, saved, Checkpoint.LR));
                        }
                        start = CheckpointKeys.nonNegativeInt(resume, saved, "epoch", 0);
                        out.printf("resumed from %s after epoch %d (lr %s)%n", resume, start, sgd.lr());
                        interrupt.saved(start);
                        RunFolder.history(resume, start).forEach(report::add);   // metrics.json and curves.png keep them
                    }
                    start = parallel.broadcastInt(start);
                    parallel.broadcastFromRoot(sgd);
                    if (resume != null) {
                        if (start >= epochs) throw new Args.UsageError("--resume: the checkpoint is already at epoch " + start + " of --epochs " + epochs);
                    }
                    Path checkpoint = outDir.resolve("model.safetensors");
                    var options = new Trainer.Options(epochs, 0, schedule, false, warmup);
                    DiagnosticsReport diagnostics = args.bool("diagnose")
                            ? DiagnosticsReport.attach(model, trainer, loader.batchesPerEpoch()) : null;
                    try {
                        trainer.fit(loader, valLoader == null ? null : () -> trainer.evaluate(valLoader), null, options, start, stats -> {
                            report.add(stats, loader.lastEpoch());
                            out.println(epochLine(stats, epochs) + RunReport.dataWait(loader.lastEpoch(), stats.seconds()));
                            if (diagnostics != null) diagnostics.afterEpoch(report, "AlexNet " + variantName, stats.seconds(), out);
                            Map<String, Object> e = new LinkedHashMap<>();
                            e.put("epoch", stats.epoch());
                            e.put("train_top5_error", finite(stats.trainTop5Error()));
                            e.put("validation_top5_error", finite(stats.validationTop5Error()));
                            top5.add(e);
                            meta.put("epoch", Integer.toString(stats.epoch()));
                            Checkpoint.save(checkpoint, model, sgd, meta);
                            interrupt.saved(stats.epoch());
                            report.writeMetrics(Map.of("top5", top5));
                            report.writeCurves("AlexNet " + variantName);
                        });
                    } catch (TrainingDivergedException e) {
                        if (diagnostics != null) diagnostics.onDiverged(e.epoch(), report, "AlexNet " + variantName, out);
                        throw new IllegalStateException(e.getMessage() + (Files.exists(checkpoint)
                                ? "; the last good checkpoint is " + checkpoint : "")
                                + " (a smaller --lr may help)", e);
                    }
                    if (comm.size() > 1) out.println(LenetCommand.communication(parallel));
                    if (!root) return 0;   // the rest evaluates and writes: rank 0's part
                    out.println(report.loaderSummary() + (preload ? "" : String.format(Locale.ROOT,
                            "; %d decodes after loading, %d MiB of images in memory", data.decodes(), data.cachedBytes() >> 20)));
                    Map<String, Object> result = new LinkedHashMap<>();
                    result.put("top5", top5);
                    List<String> lines = new ArrayList<>();
                    if (valLoader != null) {
                        Metrics m = trainer.evaluate(valLoader);
                        lines.add(resultLine("centre crop", m));
                        result.put("validation_error", m.top1Error());
                        result.put("validation_top5_error", m.top5Error());
                        report.writeText("confusion.txt", "validation images, rows are true classes, columns predictions: "
                                + classList(data.classes()) + "\n\n" + m.confusionText());
                        if (args.bool("ten-crop")) {
                            try (BatchLoader ten = tenCropLoader(valFolder, valIdx, batch, mean, scale, side)) {
                                Metrics t = trainer.evaluate(ten);
                                lines.add(resultLine("ten crops", t));
                                result.put("validation_ten_crop_error", t.top1Error());
                                result.put("validation_ten_crop_top5_error", t.top5Error());
                            }
                        }
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    result.put("total_seconds", seconds);
                    report.writeMetrics(result);
                    report.writeCurves("AlexNet " + variantName);
                    lines.add(String.format(Locale.ROOT, "%d epochs in %.0f s", report.epochs().size(), seconds));
                    report.writeText("summary.txt", String.join("\n", lines) + "\n"
                            + "files: metrics.json model.safetensors curves.png confusion.txt\n");
                    lines.forEach(out::println);
                    out.println("wrote " + report.folder());
                }
            }
        } finally {
            if (generated != null) {
                deleteTree(generated);
                Runtime.getRuntime().removeShutdownHook(cleanup);
            }
        }
        return 0;
    }

    /** {@code alexnet lr-find}: the range test from the freshly initialised model, on the training loader. */
    private static int lrFind(Args args, Sequential model, Optimizer optimizer, BatchLoader loader, RunReport report,
                              String variantName, boolean adam, float defaultLr, PrintStream out) throws IOException {
        int steps = args.intInRange("steps", 2, 100_000);
        double start = args.floatInRange("lr-start", 1e-9f, 100f), end = args.floatInRange("lr-end", 1e-9f, 1000f);
        if (!(end > start)) throw new Args.UsageError("--lr-end " + end + " must exceed --lr-start " + start);
        long t0 = System.nanoTime();
        var r = LrFinder.run(model, optimizer, loader, start, end, steps, Progress.onStderr());
        LrFindReport.write(report, String.format(Locale.ROOT, "AlexNet %s, %s, batch %d", variantName, adam ? "Adam" : "SGD",
                model.batch()), r, start, end, defaultLr, (System.nanoTime() - t0) / 1e9, out);
        return 0;
    }

    private int evaluate(Args args, PrintStream out) throws Exception {
        Path file = args.existingFile("checkpoint");
        Path dataDir = args.existingFolder("data");
        int batch = args.positiveInt("batch");
        BackendKind kind = args.choice("backend", BackendKind.values());
        Checkpointed saved = Checkpointed.read(file);
        try (ImageFolder data = ImageFolder.load(dataDir, STORED_SIDE, Math.min(4, Runtime.getRuntime().availableProcessors()));
             Backend backend = Backends.create(kind);
             Sequential model = model(saved.variant(), saved.classes(data).size())) {
            int side = crop(saved.variant());
            model.compile(backend, batch, Shape.of(3, side, side), Sequential.Mode.INFERENCE, 0);
            Checkpoint.load(file, model, null);
            int[] all = data.indices();
            try (Trainer evaluator = new Trainer(model, null, Progress.silent());
                 BatchLoader centre = data.loader(all, batch, 0, ImageFolder.Transform.center(side, saved.mean(), saved.scale()), false, false)) {
                out.printf(Locale.ROOT, "%s (AlexNet %s) on %s, %d images%n", file, Args.cliName(saved.variant()), dataDir, all.length);
                out.println(resultLine("centre crop", evaluator.evaluate(centre)));
                if (args.bool("ten-crop")) {
                    try (BatchLoader ten = tenCropLoader(data, all, batch, saved.mean(), saved.scale(), side)) {
                        out.println(resultLine("ten crops", evaluator.evaluate(ten)));
                    }
                }
            }
        }
        return 0;
    }

    /**
     * Ten views per sample: a loader batch of lcm(batch, 10) / 10 samples fills whole model
     * batches (32 -> 16 samples, 160 crops, 5 forwards).
     */
    static BatchLoader tenCropLoader(ImageFolder folder, int[] indices, int batch, float[] mean, float scale, int side) {
        int samples = batch / gcd(batch, 10);
        return folder.loader(indices, samples, 0, ImageFolder.Transform.tenCrop(side, mean, scale), false, false);
    }

    private static String oneOf(Args args, String flag, String... choices) {
        String v = args.string(flag);
        if (!List.of(choices).contains(v)) {
            throw new Args.UsageError("--" + flag + ": expected one of " + List.of(choices) + ", got '" + v + "'");
        }
        return v;
    }

    private static int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); }

    /** The per-epoch line: loss, top-1 and top-5 error on training and validation images, learning rate, speed. */
    static String epochLine(Trainer.EpochStats s, int total) {
        return String.format(Locale.ROOT,
                "epoch %2d/%d  loss %.4f  train top-1 %s top-5 %s  val top-1 %s top-5 %s  lr %.4g  %5.1f s  %,6.1f img/s%s",
                s.epoch(), total, s.trainLoss(), RunReport.percent(s.trainError()), RunReport.percent(s.trainTop5Error()),
                RunReport.percent(s.validationError()), RunReport.percent(s.validationTop5Error()),
                s.lr(), s.seconds(), s.imagesPerSecond(), s.best() ? "  *" : "");
    }

    static String resultLine(String what, Metrics m) {
        return String.format(Locale.ROOT, "validation, %s: top-1 error %.2f%% (%d of %d), top-5 error %.2f%%, loss %.4f",
                what, 100 * m.top1Error(), m.top1Wrong(), m.count(), 100 * m.top5Error(), m.loss());
    }

    private static String classList(List<String> classes) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < classes.size(); i++) s.append(i == 0 ? "" : ", ").append(i).append(' ').append(classes.get(i));
        return s.toString();
    }

    private static Object finite(double v) { return Double.isFinite(v) ? v : null; }

    static Map<String, String> metadata(Path checkpoint) throws IOException {
        try (Safetensors st = Safetensors.read(checkpoint)) {
            return Map.copyOf(st.metadata());
        }
    }

    /** What a checkpoint written by the train action says about itself. */
    record Checkpointed(Path file, Variant variant, List<String> classNames, float[] mean, float scale) {
        static Checkpointed read(Path file) throws IOException {
            Map<String, String> meta = metadata(file);
            if (!"AlexNet".equals(meta.get("model"))) {
                throw new Args.UsageError("--checkpoint: " + file + " is not an AlexNet checkpoint written by 'isthmus alexnet' (model: "
                        + meta.getOrDefault("model", "none") + ")");
            }
            float[] mean = floats(file, meta, "mean", "0,0,0", 3);
            List<String> names = meta.containsKey("classes") ? List.of(meta.get("classes").split(",")) : null;
            float scale = floats(file, meta, "scale", "1", 1)[0];   // checkpoints from before --input: raw pixels
            return new Checkpointed(file, AlexnetCommand.variant(meta.getOrDefault("variant", "paper")), names, mean, scale);
        }

        /** {@code n} comma-separated finite floats under {@code key}; errors name the file, the key and the value. */
        private static float[] floats(Path file, Map<String, String> meta, String key, String absent, int n) {
            String v = meta.getOrDefault(key, absent);
            String[] parts = v.split(",");
            float[] out = new float[n];
            try {
                if (parts.length != n) throw new NumberFormatException();
                for (int i = 0; i < n; i++) {
                    out[i] = Float.parseFloat(parts[i].strip());
                    if (!Float.isFinite(out[i])) throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": metadata key '" + key + "' is \"" + v + "\", expected " + n
                        + " finite number" + (n == 1 ? "" : "s separated by commas"));
            }
            return out;
        }

        /** The checkpoint's class names, which must be the folder's (the folder's when the checkpoint has none). */
        List<String> classes(ImageFolder data) {
            if (classNames == null) return data.classes();
            if (!classNames.equals(data.classes())) {
                throw new Args.UsageError("--data: its classes " + data.classes() + " differ from the checkpoint's " + classNames);
            }
            return classNames;
        }
    }

    static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            System.err.println("isthmus alexnet: could not delete " + root + ": " + e.getMessage());
        }
    }
}

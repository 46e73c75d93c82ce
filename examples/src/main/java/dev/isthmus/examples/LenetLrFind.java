// `isthmus lenet lr-find`: the learning-rate range test on LeNet-5 and MNIST (nn's LrFinder): from
// a freshly initialised network, --steps steps with the rate growing exponentially from --lr-start
// to --lr-end, then lr-find.png, lr-find.json, lr-find.txt and a suggested rate with its rule.
package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Shape;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.LrFinder;
import dev.isthmus.nn.Optimizer;
import dev.isthmus.nn.Progress;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.Mnist;
import dev.isthmus.nn.data.MnistLocator;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/** The logic of {@code lenet lr-find}; {@link LenetCommand} declares its flags. */
final class LenetLrFind {
    private LenetLrFind() {}

    static int run(Args args, PrintStream out) throws Exception {
        int batch = args.positiveInt("batch");
        int steps = args.intInRange("steps", 2, 100_000);
        double start = args.floatInRange("lr-start", 1e-9f, 100f), end = args.floatInRange("lr-end", 1e-9f, 1000f);
        if (!(end > start)) throw new Args.UsageError("--lr-end " + end + " must exceed --lr-start " + start);
        var optName = args.choice("optimizer", LenetCommand.OptimizerName.values());
        float momentum = args.floatInRange("momentum", 0f, 0.999f), weightDecay = args.floatInRange("weight-decay", 0f, 1f);
        var variant = args.choice("variant", LenetCommand.Variant.values());
        BackendKind kind = args.choice("backend", BackendKind.values());
        long seed = args.intInRange("seed", 0, Integer.MAX_VALUE);
        Path dataDir = args.has("data") ? args.existingFolder("data") : null;
        Path outDir = args.has("out") ? args.path("out")
                : Path.of("runs", "lenet-lr-find-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        double defaultLr = optName == LenetCommand.OptimizerName.SGD ? 0.05 : 0.001;
        try (Mnist mnist = Mnist.load(MnistLocator.standard().locate(dataDir));
             Backend backend = Backends.create(kind);
             Sequential model = variant == LenetCommand.Variant.CLASSIC ? LeNet5.classic() : LeNet5.relu()) {
            ImageDataset train = args.has("limit")
                    ? mnist.train().subset(Math.min(args.positiveInt("limit"), mnist.train().count())) : mnist.train();
            model.compile(backend, batch, Shape.of(1, Mnist.SIZE, Mnist.SIZE), Sequential.Mode.TRAIN, seed);
            Map<String, Object> config = new LinkedHashMap<>();
            config.put("model", "LeNet-5 " + args.string("variant"));
            config.put("optimizer", args.string("optimizer"));
            config.put("batch", batch);
            RunReport report = new RunReport(outDir, config);
            try (Optimizer optimizer = LenetCommand.optimizer(optName, model, (float) start, momentum, weightDecay);
                 BatchLoader loader = new BatchLoader(train, train.indices(), batch, seed, true, true, null)) {
                long t0 = System.nanoTime();
                LrFinder.Result r = LrFinder.run(model, optimizer, loader, start, end, steps, Progress.onStderr());
                double seconds = (System.nanoTime() - t0) / 1e9;
                String name = String.format("LeNet-5 %s, %s%s, batch %d", args.string("variant"), args.string("optimizer"),
                        optName == LenetCommand.OptimizerName.SGD ? " momentum " + momentum : "", batch);
                LrFindReport.write(report, name, r, start, end, defaultLr, seconds, out);
            }
        }
        return 0;
    }
}

// `isthmus lenet show --checkpoint F`: "LeNet-5 in action", as the lecture shows it. For chosen
// test digits, every stage of the network (the input, the feature maps of C1, S2, C3 and S4, the
// C5 and F6 activations and the ten output probabilities); the learned C1 kernels; how the
// prediction holds up when a digit is shifted, rotated, scaled or drowned in noise, as strips of
// pictures and as accuracy on the whole test set per level; and the misclassified test digits.
//
// The transformations act on the 32x32 preprocessed digits (background -0.1) through the static
// functions of Distortions. It only reads the checkpoint; it trains nothing.
package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.DType;
import dev.isthmus.engine.Shape;
import dev.isthmus.engine.Tensor;
import dev.isthmus.examples.figures.BarChart;
import dev.isthmus.examples.figures.ImageGrid;
import dev.isthmus.examples.figures.Png;
import dev.isthmus.nn.Checkpoint;
import dev.isthmus.nn.LeNet5;
import dev.isthmus.nn.Metrics;
import dev.isthmus.nn.Progress;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.Trainer;
import dev.isthmus.nn.data.Distortions;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.data.Mnist;
import dev.isthmus.nn.data.MnistFiles;
import dev.isthmus.nn.data.MnistLocator;
import dev.isthmus.nn.io.Safetensors;

import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

/** The logic of {@code lenet show}; {@link LenetCommand} declares its flags and dispatches here. */
final class LenetShow {
    private LenetShow() {}

    /** The batch of the inference model unless --batch is given: large batches make oneDNN fast. */
    static final int DEFAULT_BATCH = 1000;
    static final long SEED = 1;
    static final int SIDE = Mnist.SIZE, PIXELS = SIDE * SIDE; // H = W = 32

    /** One kind of transformation and the levels it is measured at. */
    record Transform(String name, String axis, double[] levels, double[] strip) {
        /** The transformed copy of one (32, 32) preprocessed digit; {@code seed} drives the noise. */
        float[] apply(float[] image, double level, long seed) {
            float bg = Mnist.BACKGROUND;
            return switch (name) {
                case "shift" -> Distortions.shift(image, SIDE, SIDE, level, 0, bg);
                case "rotation" -> Distortions.rotate(image, SIDE, SIDE, level, bg);
                case "scale" -> Distortions.scale(image, SIDE, SIDE, level, bg);
                case "salt-and-pepper" -> Distortions.saltAndPepper(image, level, Mnist.BACKGROUND, Mnist.FOREGROUND, new Random(seed));
                case "gaussian-noise" -> Distortions.gaussianNoise(image, level, new Random(seed));
                default -> throw new IllegalStateException("unknown transformation " + name);
            };
        }

        String label(double level) {
            return switch (name) {
                case "shift" -> String.format(Locale.ROOT, "%+d px", Math.round(level));
                case "rotation" -> String.format(Locale.ROOT, "%+d deg", Math.round(level));
                case "scale" -> String.format(Locale.ROOT, "x%.1f", level);
                case "salt-and-pepper" -> String.format(Locale.ROOT, "%d%%", Math.round(level * 100));
                default -> String.format(Locale.ROOT, "%.2f", level).replaceFirst("0+$", "").replaceFirst("\\.$", "");
            };
        }
    }

    /** The lecture's transformations: shift -6..6 px, rotation -45..45 degrees, scale 0.6..1.4, noise. */
    static final List<Transform> TRANSFORMS = List.of(
            new Transform("shift", "horizontal shift, pixels (right is +)", range(-6, 6, 1), range(-6, 6, 2)),
            new Transform("rotation", "rotation, degrees (counter-clockwise is +)", range(-45, 45, 15), range(-45, 45, 15)),
            new Transform("scale", "scale factor about the centre", range(0.6, 1.4, 0.1), range(0.6, 1.4, 0.1)),
            new Transform("salt-and-pepper", "salt-and-pepper noise, fraction of pixels", range(0, 0.3, 0.05), range(0, 0.3, 0.05)),
            new Transform("gaussian-noise", "Gaussian noise, standard deviation (ink - background = 1.275)",
                    new double[] {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0}, new double[] {0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0}));

    static double[] range(double from, double to, double step) {
        int n = (int) Math.round((to - from) / step) + 1;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = Math.round((from + i * step) * 1e6) / 1e6;
        return v;
    }

    /** Accuracy per level of one transformation. */
    record Row(Transform transform, double[] levels, double[] accuracy) {}

    static int run(Args args, PrintStream out) throws Exception {
        Path file = args.existingFile("checkpoint");
        BackendKind kind = args.choice("backend", BackendKind.values());
        int batch = args.has("batch") ? args.positiveInt("batch") : DEFAULT_BATCH;
        Path dataDir = args.has("data") ? args.existingFolder("data") : null;
        Path outDir = args.has("out") ? args.path("out") : file.toAbsolutePath().getParent().resolve("show");
        List<Integer> classes = args.has("digits") ? list(args, "digits", 9) : List.of();
        List<Integer> indices = args.has("indices") ? list(args, "indices", Integer.MAX_VALUE) : List.of();
        if (classes.isEmpty() && indices.isEmpty()) classes = List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        String variant;
        try (Safetensors st = Safetensors.read(file)) {
            variant = st.metadata().getOrDefault("variant", "classic");
        }
        Path versus = args.has("versus") ? args.existingFile("versus") : null;
        MnistFiles files = MnistLocator.standard().locate(dataDir);
        long t0 = System.nanoTime();
        try (ImageDataset test = Mnist.load("mnist/test", files.testImages(), files.testLabels());
             Backend backend = Backends.create(kind);
             Sequential model = model(file)) {
            model.compile(backend, batch, Shape.of(1, SIDE, SIDE), Sequential.Mode.INFERENCE, 0);
            Checkpoint.load(file, model, null);
            Set<Integer> chosen = new LinkedHashSet<>();
            for (int c : classes) chosen.add(firstOfClass(test, c));
            for (int i : indices) {
                if (i >= test.count()) throw new Args.UsageError("--indices: " + i + " is not a test index (0.." + (test.count() - 1) + ")");
                chosen.add(i);
            }
            var report = new RunReport(outDir, Map.of());
            out.printf(Locale.ROOT, "LeNet-5 %s from %s on %s; writing to %s%n", variant, file, backend.describe(), outDir);
            try (Trainer evaluator = new Trainer(model, null, Progress.silent());
                 Tensor input = backend.allocate(Shape.of(batch, 1, SIDE, SIDE), DType.F32)) {
                Metrics plain = evaluator.evaluate(test, test.indices());
                int wrong = report.writeMisclassified(test, test.indices(), plain, 120);
                out.printf(Locale.ROOT, "test error %.2f%% (%d of %d digits): misclassified.png%n",
                        100 * plain.top1Error(), wrong, plain.count());

                List<String> written = new ArrayList<>();
                for (int index : chosen) {
                    String name = String.format(Locale.ROOT, "digit-%05d.png", index);
                    Png.write(digitFigure(model, input, test, index, variant), report.file(name));
                    written.add(name);
                }
                out.println("feature maps: " + String.join(" ", written));
                Png.write(c1Kernels(model, file), report.file("c1-kernels.png"));
                out.println("learned C1 kernels: c1-kernels.png");

                int shown = chosen.iterator().next();
                Png.write(invarianceFigure(model, input, test, shown), report.file("invariance.png"));
                List<Row> rows = invariance(evaluator, test, test.indices(), SEED);
                String table = invarianceTable(rows, 1 - plain.top1Error(), test.indices().length,
                        "LeNet-5 " + variant + " (" + file + ")");
                report.writeText("invariance.txt", table);
                out.print(table);
                out.printf(Locale.ROOT, "wrote invariance.png (test digit #%d) and invariance.txt in %.1f s%n", shown,
                        (System.nanoTime() - t0) / 1e9);
                UnusualPanel.write(model, input, file, versus, backend, batch, report, out);
            }
        }
        return 0;
    }

    /** LeNet-5 as a checkpoint's metadata describes it: its variant and its layer widths (the paper's when not given). */
    static Sequential model(Path checkpoint) throws java.io.IOException {
        try (Safetensors st = Safetensors.read(checkpoint)) {
            var meta = st.metadata();
            var sizes = LeNet5.Sizes.parse(meta.getOrDefault("sizes", LeNet5.Sizes.DEFAULT.text()));
            return "relu".equals(meta.getOrDefault("variant", "classic")) ? LeNet5.relu(sizes) : LeNet5.classic(sizes);
        }
    }

    /** A comma-separated list of integers in [0, max]. */
    private static List<Integer> list(Args args, String flag, int max) {
        List<Integer> values = new ArrayList<>();
        for (String word : args.string(flag).split(",")) {
            String w = word.strip();
            if (w.isEmpty()) continue;
            int v;
            try {
                v = Integer.parseInt(w);
            } catch (NumberFormatException e) {
                v = -1;
            }
            if (v < 0 || v > max) {
                throw new Args.UsageError("--" + flag + ": expected integers in [0, " + max + "] separated by commas, got '" + w + "'");
            }
            values.add(v);
        }
        if (values.isEmpty()) throw new Args.UsageError("--" + flag + ": no numbers in '" + args.string(flag) + "'");
        return values;
    }

    static int firstOfClass(ImageDataset test, int digit) {
        for (int i = 0; i < test.count(); i++) if (test.label(i) == digit) return i;
        throw new Args.UsageError("--digits: the test set holds no " + digit);
    }

    static float[] image(ImageDataset data, int index) {
        return data.image(index).toArray(ValueLayout.JAVA_FLOAT); // (1, 32, 32)
    }

    // ---- inference on a few images

    /** The output of layer {@code layer} for each image, (images, layer output...), through the model's batches. */
    static float[][] outputs(Sequential model, Tensor input, List<float[]> images, int layer) {
        int batch = model.batch(), size = Math.toIntExact(model.outputShapes().get(layer).elements());
        float[][] result = new float[images.size()][];
        float[] staging = new float[batch * PIXELS];
        for (int start = 0; start < images.size(); start += batch) {
            java.util.Arrays.fill(staging, 0f);
            int n = Math.min(batch, images.size() - start);
            for (int i = 0; i < n; i++) System.arraycopy(images.get(start + i), 0, staging, i * PIXELS, PIXELS);
            input.copyFrom(staging);
            float[] all = model.forwardTo(input, layer).toFloatArray();
            for (int i = 0; i < n; i++) result[start + i] = java.util.Arrays.copyOfRange(all, i * size, (i + 1) * size);
        }
        return result;
    }

    static float[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : logits) max = Math.max(max, v);
        float[] p = new float[logits.length];
        for (float v : logits) sum += Math.exp(v - max);
        for (int k = 0; k < p.length; k++) p[k] = (float) (Math.exp(logits[k] - max) / sum);
        return p;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
        return best;
    }

    // ---- the pictures

    private static BufferedImage digitFigure(Sequential model, Tensor input, ImageDataset test, int index, String variant) {
        float[] img = image(test, index);
        List<float[]> one = List.of(img);
        String act = variant.equals("relu") ? "ReLU" : "scaled tanh", pool = variant.equals("relu") ? "max" : "average";
        List<BufferedImage> maps = new ArrayList<>();
        maps.add(ImageGrid.render(null, List.of(ImageGrid.grey(img, SIDE, SIDE, Mnist.BACKGROUND, Mnist.FOREGROUND,
                "input 32x32")), 1, 4));
        maps.add(Pictures.titled("C1: 6 maps 28x28 (5x5 convolution, " + act + ")", maps(model, input, one, "c1_act", 6, 3)));
        maps.add(Pictures.titled("S2: 6 maps 14x14 (" + pool + " pooling 2x2)", maps(model, input, one, "s2", 6, 6)));
        maps.add(Pictures.titled("C3: 16 maps 10x10 (5x5 convolution, " + act + ")", maps(model, input, one, "c3_act", 8, 6)));
        maps.add(Pictures.titled("S4: 16 maps 5x5 (" + pool + " pooling 2x2)", maps(model, input, one, "s4", 8, 12)));

        float[] c5 = outputs(model, input, one, model.indexOf("c5_act"))[0];
        float[] f6 = outputs(model, input, one, model.indexOf("f6_act"))[0];
        float[] p = softmax(outputs(model, input, one, model.indexOf("output"))[0]);
        int predicted = argmax(p);
        List<BufferedImage> bars = new ArrayList<>();
        bars.add(BarChart.render("C5: 120 activations (" + act + ")", bars(c5, false), false, 660, 240)); // 5 px a bar
        bars.add(BarChart.render("F6: 84 activations (" + act + ")", bars(f6, false), false, 648, 240)); // 7 px a bar
        bars.add(BarChart.render("output: probability of each class (softmax)", bars(p, true), false, 660, 280));

        String title = String.format(Locale.ROOT, "LeNet-5 in action: MNIST test digit #%d, a %d%npredicted %d with probability %.1f%%",
                index, test.label(index), predicted, 100 * p[predicted]);
        return Pictures.titled(title, Pictures.row(List.of(Pictures.column(maps), Pictures.column(bars))));
    }

    private static BufferedImage maps(Sequential model, Tensor input, List<float[]> one, String layer, int columns, int scale) {
        int index = model.indexOf(layer);
        Shape s = model.outputShapes().get(index); // (C, H, W)
        float[] all = outputs(model, input, one, index)[0];
        int plane = s.dim(1) * s.dim(2);
        List<ImageGrid.Cell> cells = new ArrayList<>();
        for (int c = 0; c < s.dim(0); c++) {
            cells.add(ImageGrid.normalized(java.util.Arrays.copyOfRange(all, c * plane, (c + 1) * plane), s.dim(1), s.dim(2),
                    Integer.toString(c + 1)));
        }
        return ImageGrid.render(null, cells, columns, scale);
    }

    private static List<BarChart.Bar> bars(float[] values, boolean labelled) {
        List<BarChart.Bar> bars = new ArrayList<>();
        for (int i = 0; i < values.length; i++) bars.add(new BarChart.Bar(labelled ? Integer.toString(i) : "", values[i]));
        return bars;
    }

    private static BufferedImage c1Kernels(Sequential model, Path file) {
        float[] w = model.parameters().get("c1.weight").value().toFloatArray(); // (6, 1, 5, 5)
        List<BufferedImage> kernels = new ArrayList<>();
        for (int o = 0; o < 6; o++) {
            float[][] k = new float[5][5];
            for (int r = 0; r < 5; r++) System.arraycopy(w, o * 25 + r * 5, k[r], 0, 5);
            kernels.add(Pictures.kernel(k, 34, "kernel " + (o + 1)));
        }
        return Pictures.titled("the six learned C1 kernels, 5x5 (blue < 0 < red, each to its own max |w|)\n" + file.getFileName(),
                Pictures.row(kernels));
    }

    private static BufferedImage invarianceFigure(Sequential model, Tensor input, ImageDataset test, int index) {
        float[] img = image(test, index);
        List<BufferedImage> strips = new ArrayList<>();
        for (Transform t : TRANSFORMS) {
            List<float[]> images = new ArrayList<>();
            for (int i = 0; i < t.strip().length; i++) images.add(t.apply(img, t.strip()[i], SEED * 1_000_003L + i));
            float[][] logits = outputs(model, input, images, model.layers().size() - 1);
            List<ImageGrid.Cell> cells = new ArrayList<>();
            for (int i = 0; i < images.size(); i++) {
                float[] p = softmax(logits[i]);
                int k = argmax(p);
                cells.add(ImageGrid.grey(images.get(i), SIDE, SIDE, Mnist.BACKGROUND, Mnist.FOREGROUND,
                        String.format(Locale.ROOT, "%s %d%s %s", t.label(t.strip()[i]).replaceFirst(" (px|deg)$", ""), k,
                                k == test.label(index) ? "" : "!", percent(p[k]))));
            }
            strips.add(Pictures.titled(t.axis(), ImageGrid.render(null, cells, cells.size(), 4)));
        }
        return Pictures.titled(String.format(Locale.ROOT,
                "invariance: test digit #%d (a %d); under each picture the level, the predicted class (! if wrong)%n"
                        + "and its probability. Accuracy on the whole test set per level: invariance.txt", index, test.label(index)),
                Pictures.column(strips));
    }

    private static String percent(float p) {
        return p >= 0.995f ? "100%" : String.format(Locale.ROOT, "%d%%", Math.round(100 * p));
    }

    // ---- accuracy under transformations

    /**
     * The accuracy on {@code data[indices]} at every level of every transformation, each level one
     * pass of the evaluator (batched inference) over transformed copies. Noise is seeded per image.
     */
    static List<Row> invariance(Trainer evaluator, ImageDataset data, int[] indices, long seed) {
        int[] labels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) labels[i] = data.label(indices[i]);
        float[] originals = new float[indices.length * PIXELS];
        for (int i = 0; i < indices.length; i++) {
            MemorySegment.copy(data.image(indices[i]), ValueLayout.JAVA_FLOAT, 0, originals, i * PIXELS, PIXELS);
        }
        List<Row> rows = new ArrayList<>();
        for (Transform t : TRANSFORMS) {
            double[] accuracy = new double[t.levels().length];
            for (int l = 0; l < t.levels().length; l++) {
                double level = t.levels()[l];
                long levelSeed = seed * 1_000_003L + (long) l * 7919 + t.name().hashCode();
                float[] transformed = new float[originals.length];
                IntStream.range(0, indices.length).parallel().forEach(i -> {
                    float[] one = java.util.Arrays.copyOfRange(originals, i * PIXELS, (i + 1) * PIXELS);
                    System.arraycopy(t.apply(one, level, levelSeed + i), 0, transformed, i * PIXELS, PIXELS);
                });
                try (ImageDataset set = ImageDataset.copyOf(t.name() + " " + t.label(level), 1, SIDE, SIDE, transformed, labels)) {
                    accuracy[l] = 1 - evaluator.evaluate(set, set.indices()).top1Error();
                }
            }
            rows.add(new Row(t, t.levels(), accuracy));
        }
        return rows;
    }

    /** The accuracy table: per transformation a line of levels and a line of accuracies in percent. */
    static String invarianceTable(List<Row> rows, double plainAccuracy, int digits, String model) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%s: accuracy on %,d MNIST test digits, transformed%n", model, digits));
        s.append(String.format(Locale.ROOT, "plain test accuracy %.2f%%; transformations act on the 32x32 preprocessed digits "
                + "(background -0.1, ink 1.175), bilinear, background outside%n", 100 * plainAccuracy));
        for (Row r : rows) {
            s.append('\n').append(r.transform().axis()).append('\n');
            StringBuilder levels = new StringBuilder(String.format("  %-9s", "level"));
            StringBuilder acc = new StringBuilder(String.format("  %-9s", "accuracy"));
            for (int i = 0; i < r.levels().length; i++) {
                levels.append(String.format(Locale.ROOT, "%8s", r.transform().label(r.levels()[i])));
                acc.append(String.format(Locale.ROOT, "%7.2f%%", 100 * r.accuracy()[i]));
            }
            s.append(levels).append('\n').append(acc).append('\n');
        }
        return s.toString();
    }
}

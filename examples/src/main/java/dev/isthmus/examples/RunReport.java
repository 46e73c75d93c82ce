// The files a training run leaves in its output folder, shared by `lenet` and `alexnet`:
// metrics.json (configuration, one record per epoch, final figures), curves.png (loss and
// error per epoch), confusion.txt, and the grid of misclassified samples. Each write is
// atomic, so an interrupted run never leaves a half-written file.
package dev.isthmus.examples;

import dev.isthmus.examples.figures.ImageGrid;
import dev.isthmus.examples.figures.LineChart;
import dev.isthmus.nn.Metrics;
import dev.isthmus.nn.Trainer;
import dev.isthmus.nn.data.BatchLoader;
import dev.isthmus.nn.data.ImageDataset;
import dev.isthmus.nn.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Collects a run's epochs and writes its result files into one folder. */
final class RunReport {
    private final Path out;
    private final Map<String, Object> config;
    private final List<Trainer.EpochStats> epochs = new ArrayList<>();
    private final Map<String, Object> sections = new LinkedHashMap<>();   // more top-level entries of metrics.json
    private final List<BatchLoader.Timing> loading = new ArrayList<>(); // per epoch; null entries when not measured

    RunReport(Path out, Map<String, Object> config) throws IOException {
        this.out = out;
        this.config = config;
        Files.createDirectories(out);
    }

    Path folder() { return out; }

    Path file(String name) { return out.resolve(name); }

    void add(Trainer.EpochStats stats) { add(stats, null); }

    /** An epoch and what its training loader measured (null: nothing). */
    void add(Trainer.EpochStats stats, BatchLoader.Timing timing) {
        epochs.add(stats);
        loading.add(timing);
    }

    /** Above this share of an epoch, the epoch line shows the time spent waiting for data. */
    static final double SHOWN_WAIT_SHARE = 0.03;

    /**
     * The data-wait part of an epoch line: "" when the step waited for under {@link #SHOWN_WAIT_SHARE}
     * of the epoch, else the share and the loader's own images/s.
     */
    static String dataWait(BatchLoader.Timing t, double epochSeconds) {
        if (t == null || t.waitShare(epochSeconds) < SHOWN_WAIT_SHARE) return "";
        return String.format(Locale.ROOT, "  data wait %.0f%% (loader %,.0f img/s on %d thread%s)",
                100 * t.waitShare(epochSeconds), t.imagesPerSecond(), t.threads(), t.threads() == 1 ? "" : "s");
    }

    /** One line on the loader over all epochs so far: threads, time waited, the loader's images/s. */
    String loaderSummary() {
        double wait = 0, fill = 0, seconds = 0;
        long images = 0;
        int threads = 0;
        for (int i = 0; i < epochs.size(); i++) {
            BatchLoader.Timing t = loading.get(i);
            if (t == null) continue;
            wait += t.waitSeconds();
            fill += t.fillSeconds();
            images += t.images();
            seconds += epochs.get(i).seconds();
            threads = t.threads();
        }
        return String.format(Locale.ROOT, "data: %d loader thread%s; the step waited %.1f s of %.1f s (%.1f%%); the loader alone %,.0f img/s",
                threads, threads == 1 ? "" : "s", wait, seconds, seconds > 0 ? 100 * wait / seconds : 0, fill > 0 ? images / fill : 0);
    }

    List<Trainer.EpochStats> epochs() { return epochs; }

    /** A further top-level entry of metrics.json ("diagnostics"), written from the next writeMetrics on. */
    void section(String key, Object value) { sections.put(key, value); }

    /** The per-epoch line printed while training. */
    static String epochLine(Trainer.EpochStats s, int total) {
        return String.format(Locale.ROOT, "epoch %2d/%d  loss %.4f  train %s  val %s  test %s  lr %.4g  %5.1f s  %,6.0f img/s%s",
                s.epoch(), total, s.trainLoss(), percent(s.trainError()), percent(s.validationError()),
                percent(s.testError()), s.lr(), s.seconds(), s.imagesPerSecond(), s.best() ? "  *" : "");
    }

    static String percent(double fraction) {
        return Double.isNaN(fraction) ? "  -   " : String.format(Locale.ROOT, "%5.2f%%", 100 * fraction);
    }

    /** metrics.json with the configuration, every epoch so far, and {@code result} (may be empty). */
    void writeMetrics(Map<String, Object> result) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("config", config);
        List<Object> list = new ArrayList<>();
        for (Trainer.EpochStats s : epochs) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("epoch", s.epoch());
            e.put("train_loss", finite(s.trainLoss()));
            e.put("train_error", finite(s.trainError()));
            e.put("validation_loss", finite(s.validationLoss()));
            e.put("validation_error", finite(s.validationError()));
            e.put("test_loss", finite(s.testLoss()));
            e.put("test_error", finite(s.testError()));
            e.put("test_top5_error", finite(s.testTop5Error()));
            e.put("lr", (double) s.lr());
            e.put("seconds", s.seconds());
            e.put("images_per_second", s.imagesPerSecond());
            BatchLoader.Timing t = loading.get(list.size());
            if (t != null) {
                e.put("data_wait_seconds", t.waitSeconds());
                e.put("data_wait_share", t.waitShare(s.seconds()));
                e.put("loader_fill_seconds", t.fillSeconds());
                e.put("loader_images_per_second", finite(t.imagesPerSecond()));
                e.put("loader_threads", t.threads());
            }
            list.add(e);
        }
        root.put("epochs", list);
        root.putAll(sections);
        root.put("result", result);
        writeText("metrics.json", Json.write(root) + "\n");
    }

    private static Object finite(double v) { return Double.isFinite(v) ? v : null; }

    /** curves.png: loss (log scale) and error in percent per epoch. */
    void writeCurves(String title) throws IOException {
        if (epochs.isEmpty()) return;
        int n = epochs.size();
        double[] x = new double[n], trainLoss = new double[n], valLoss = new double[n],
                trainErr = new double[n], valErr = new double[n], testErr = new double[n];
        for (int i = 0; i < n; i++) {
            var s = epochs.get(i);
            x[i] = s.epoch();
            trainLoss[i] = s.trainLoss();
            valLoss[i] = s.validationLoss();
            trainErr[i] = 100 * s.trainError();
            valErr[i] = 100 * s.validationError();
            testErr[i] = 100 * s.testError();
        }
        List<LineChart.Series> losses = new ArrayList<>();
        losses.add(new LineChart.Series("train loss", x, trainLoss));
        if (hasAny(valLoss)) losses.add(new LineChart.Series("validation loss", x, valLoss));
        List<LineChart.Series> errors = new ArrayList<>();
        errors.add(new LineChart.Series("train error %", x, trainErr));
        if (hasAny(valErr)) errors.add(new LineChart.Series("validation error %", x, valErr));
        if (hasAny(testErr)) errors.add(new LineChart.Series("test error %", x, testErr));
        LineChart.write(file("curves.png"), title, "epoch",
                List.of(new LineChart.Panel("loss", true, losses), new LineChart.Panel("error %", true, errors)),
                900, 320);
    }

    private static boolean hasAny(double[] v) {
        for (double d : v) if (Double.isFinite(d)) return true;
        return false;
    }

    /** misclassified.png: up to {@code max} wrongly classified samples captioned "true->predicted". */
    int writeMisclassified(ImageDataset data, int[] indices, Metrics metrics, int max) throws IOException {
        List<ImageGrid.Cell> cells = new ArrayList<>();
        int wrong = 0;
        for (int i = 0; i < metrics.count(); i++) {
            int truth = data.label(indices[i]), predicted = metrics.prediction(i);
            if (truth == predicted) continue;
            wrong++;
            if (cells.size() >= max) continue;
            String caption = truth + "->" + predicted;
            if (data.hasRaw()) {
                cells.add(ImageGrid.grey(data.rawImage(indices[i]), data.rawRows(), data.rawCols(), caption));
            } else {
                float[] px = new float[data.height() * data.width()];
                java.lang.foreign.MemorySegment.copy(data.image(indices[i]), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0,
                        px, 0, px.length);
                cells.add(ImageGrid.normalized(px, data.height(), data.width(), caption));
            }
        }
        if (!cells.isEmpty()) {
            ImageGrid.write(file("misclassified.png"),
                    wrong + " misclassified of " + metrics.count() + (wrong > max ? " (first " + max + ")" : ""),
                    cells, 12, 2);
        }
        return wrong;
    }

    void writeText(String name, String text) throws IOException {
        Path target = file(name);
        Path tmp = dev.isthmus.nn.io.TempFiles.createBeside(target);   // follows the umask
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}

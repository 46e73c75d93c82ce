// The output of `lenet lr-find` and `alexnet lr-find`: the summary lines on the terminal, lr-find.png
// (batch loss and smoothed loss against the learning rate on a log axis, the minimum and the
// suggestion marked as vertical lines) and lr-find.json (every step).
package dev.isthmus.examples;

import dev.isthmus.examples.figures.LineChart;
import dev.isthmus.examples.figures.Png;
import dev.isthmus.nn.LrFinder;
import dev.isthmus.nn.io.Json;

import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Prints and writes one learning-rate range test. */
final class LrFindReport {
    private LrFindReport() {}

    /** The smoothed minimum must lie this far below the first smoothed loss to count as a real dip. */
    static final double PLATEAU = 0.95;

    static void write(RunReport report, String model, LrFinder.Result r, double start, double end, double defaultLr,
                      double seconds, PrintStream out) throws IOException {
        boolean plateau = r.minLoss() > PLATEAU * r.smoothed()[0];
        List<String> lines = new java.util.ArrayList<>();
        lines.add(String.format(Locale.ROOT, "lr range test of %s: %d steps, lr from %.3g to %.3g (x%.4g a step)%s, in %.1f s",
                model, r.steps(), start, r.lrs()[r.steps() - 1], Math.pow(end / start, 1.0 / Math.max(1, r.steps() - 1)),
                r.diverged() ? ", stopped when the loss diverged" : "", seconds));
        lines.add(String.format(Locale.ROOT, "smoothed loss: %.4f at the start, minimum %.4f at lr %.3g, %.4f at the end",
                r.smoothed()[0], r.minLoss(), r.minLr(), r.smoothed()[r.steps() - 1]));
        lines.add(String.format(Locale.ROOT, "suggested lr %.3g (rule: %s); the default is %.3g", r.suggested(), r.rule(), defaultLr));
        if (plateau) {
            lines.add("the smoothed loss never fell 5% below its start (a plateau; LeNet-5's classic initialisation keeps the loss"
                    + " at chance for a few hundred steps): its minimum marks where training breaks down, not where it learns fastest");
        }
        lines.forEach(out::println);
        report.writeText("lr-find.txt", String.join("\n", lines) + "\n");
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", model);
        json.put("steps", r.steps());
        json.put("lr_start", start);
        json.put("lr_end", end);
        json.put("diverged", r.diverged());
        json.put("min_lr", r.minLr());
        json.put("min_smoothed_loss", r.minLoss());
        json.put("suggested_lr", r.suggested());
        json.put("rule", r.rule());
        json.put("plateau", plateau);
        json.put("default_lr", defaultLr);
        json.put("seconds", seconds);
        json.put("lr", r.lrs());
        json.put("loss", r.losses());
        json.put("smoothed_loss", r.smoothed());
        report.writeText("lr-find.json", Json.write(json) + "\n");

        double lo = Double.POSITIVE_INFINITY, hi = 0;
        for (double v : r.smoothed()) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        for (double v : r.losses()) if (Double.isFinite(v)) hi = Math.max(hi, Math.min(v, 4 * r.smoothed()[0]));
        var panel = new LineChart.Panel("loss", false, List.of(
                new LineChart.Series("batch loss", r.lrs(), clip(r.losses(), 4 * r.smoothed()[0])),
                new LineChart.Series("smoothed", r.lrs(), r.smoothed()),
                new LineChart.Series(String.format(Locale.ROOT, "minimum, lr %.3g", r.minLr()),
                        new double[] {r.minLr(), r.minLr()}, new double[] {lo, hi}),
                new LineChart.Series(String.format(Locale.ROOT, "suggested, lr %.3g", r.suggested()),
                        new double[] {r.suggested(), r.suggested()}, new double[] {lo, hi}),
                new LineChart.Series(String.format(Locale.ROOT, "default, lr %.3g", defaultLr),
                        new double[] {defaultLr, defaultLr}, new double[] {lo, hi})));
        Png.write(LineChart.render("learning-rate range test: " + model, "learning rate (log scale)", true, List.of(panel), 900, 420),
                report.file("lr-find.png"));
        out.println("wrote " + report.folder() + " (lr-find.png, lr-find.json, lr-find.txt)");
    }

    /** Batch losses above {@code max} drawn at max, so that one diverged step does not flatten the curve. */
    private static double[] clip(double[] v, double max) {
        double[] c = v.clone();
        for (int i = 0; i < c.length; i++) c[i] = Math.min(c[i], max);
        return c;
    }
}

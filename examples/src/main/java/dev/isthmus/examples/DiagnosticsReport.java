// `--diagnose` on `lenet` and `alexnet`: attaches nn's Diagnostics to the trainer, prints the
// warnings a rule fires after each epoch, adds a "diagnostics" entry to metrics.json and draws
// diagnostics.png, one small chart per parametrised layer (gradient norm and update/weight ratio
// of its weight on a log axis, and the activation after it: saturated or zero outputs in percent),
// per sampled step. The rules and thresholds are Diagnostics.Rules.DEFAULT, listed in README.md.
package dev.isthmus.examples;

import dev.isthmus.examples.figures.LineChart;
import dev.isthmus.examples.figures.Png;
import dev.isthmus.nn.Diagnostics;
import dev.isthmus.nn.Sequential;
import dev.isthmus.nn.Trainer;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The diagnostics of one training run: warnings on the terminal, metrics.json's entry, diagnostics.png. */
final class DiagnosticsReport {
    /** Sampled steps per epoch to aim for: enough for the curves, few enough to cost little. */
    static final int SAMPLES_PER_EPOCH = 50;

    private final Diagnostics diagnostics;

    private DiagnosticsReport(Diagnostics diagnostics) {
        this.diagnostics = diagnostics;
    }

    /** Diagnostics sampling about {@link #SAMPLES_PER_EPOCH} of {@code stepsPerEpoch} steps, listening to {@code trainer}. */
    static DiagnosticsReport attach(Sequential model, Trainer trainer, int stepsPerEpoch) {
        var d = new Diagnostics(model, Math.max(1, stepsPerEpoch / SAMPLES_PER_EPOCH));
        trainer.setStepListener(d);
        return new DiagnosticsReport(d);
    }

    Diagnostics diagnostics() { return diagnostics; }

    /**
     * Prints the last epoch's warnings and what the diagnostics cost in it (of {@code epochSeconds},
     * the epoch's training time; NaN when unknown), and updates metrics.json's entry and diagnostics.png.
     */
    void afterEpoch(RunReport report, String title, double epochSeconds, PrintStream out) throws IOException {
        List<Diagnostics.EpochReport> epochs = diagnostics.epochs();
        if (epochs.isEmpty()) return;
        Diagnostics.EpochReport last = epochs.getLast();
        for (Diagnostics.Warning w : last.warnings()) out.println("  diagnostics: " + w.message());
        out.println(String.format(java.util.Locale.ROOT, "  (diagnostics: %d steps sampled, %.3f s%s)", last.samples(), last.seconds(),
                Double.isFinite(epochSeconds) ? String.format(java.util.Locale.ROOT, ", %.1f%% of the epoch's %.1f s",
                        100 * last.seconds() / epochSeconds, epochSeconds) : ""));
        report.section("diagnostics", json());
        if (!diagnostics.samples().isEmpty()) Png.write(figure(title), report.file("diagnostics.png"));
    }

    /**
     * When training diverged in {@code epoch}: closes that epoch's samples, so that its warnings
     * (usually the reason) are printed and written before the run stops.
     */
    void onDiverged(int epoch, RunReport report, String title, PrintStream out) throws IOException {
        diagnostics.epochEnd(epoch);
        afterEpoch(report, title, Double.NaN, out);
    }

    /** metrics.json's "diagnostics": the sampling, the rules, and per epoch every parameter and activation layer. */
    Map<String, Object> json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("every_steps", diagnostics.every());
        Diagnostics.Rules r = Diagnostics.Rules.DEFAULT;
        Map<String, Object> rules = new LinkedHashMap<>();
        rules.put("early_steps", r.earlySteps());
        rules.put("saturated_early_above", r.saturatedEarly());
        rules.put("saturated_at_epoch_end_above", r.saturated());
        rules.put("never_active_above", r.neverActive());
        rules.put("vanishing_rms_ratio_below", r.vanishing());
        rules.put("update_ratio_above", r.updateHigh());
        rules.put("update_ratio_below", r.updateLow());
        root.put("rules", rules);
        List<Object> list = new ArrayList<>();
        for (Diagnostics.EpochReport e : diagnostics.epochs()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", e.epoch());
            m.put("sampled_steps", e.samples());
            m.put("seconds", e.seconds());
            List<Object> ps = new ArrayList<>();
            for (Diagnostics.ParameterStats p : e.parameters()) {
                Map<String, Object> q = new LinkedHashMap<>();
                q.put("name", p.name());
                q.put("grad_norm", finite(p.gradNorm()));
                q.put("grad_rms", finite(p.gradRms()));
                q.put("weight_norm", finite(p.weightNorm()));
                q.put("update_ratio", finite(p.updateRatio()));
                ps.add(q);
            }
            m.put("parameters", ps);
            List<Object> as = new ArrayList<>();
            for (Diagnostics.ActivationStats a : e.activations()) {
                Map<String, Object> q = new LinkedHashMap<>();
                q.put("layer", a.layer());
                q.put("after", a.owner());
                q.put("kind", a.kind());
                q.put("units", a.units());
                if (!Double.isNaN(a.saturated())) {
                    q.put("saturated", a.saturated());
                    q.put("saturated_at_end", finite(a.saturatedAtEnd()));
                    q.put("always_saturated", finite(a.neverActive()));
                } else {
                    q.put("never_active", a.neverActive());
                    q.put("zero_fraction", a.zeroFraction());
                }
                as.add(q);
            }
            m.put("activations", as);
            m.put("warnings", e.warnings().stream().map(Diagnostics.Warning::message).toList());
            list.add(m);
        }
        root.put("epochs", list);
        return root;
    }

    private static Object finite(double v) { return Double.isFinite(v) ? v : null; }

    /** One chart per parametrised layer, three to a row. */
    BufferedImage figure(String title) {
        List<Diagnostics.Sample> samples = diagnostics.samples();
        double[] x = samples.stream().mapToDouble(Diagnostics.Sample::x).toArray();
        var params = diagnostics.parameterList();
        List<String> acts = diagnostics.activationLayers(), owners = diagnostics.activationOwners();
        List<BufferedImage> charts = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            String name = params.get(i).name();
            if (!name.endsWith(".weight")) continue;
            String layer = name.substring(0, name.length() - ".weight".length());
            int k = i;
            List<LineChart.Panel> panels = new ArrayList<>();
            panels.add(new LineChart.Panel("weight", true,
                    new LineChart.Series("grad norm", x, samples.stream().mapToDouble(s -> s.gradNorm()[k]).toArray()),
                    new LineChart.Series("update/weight", x, samples.stream().mapToDouble(s -> s.updateRatio()[k]).toArray())));
            int j = owners.indexOf(layer);
            if (j >= 0) {
                boolean relu = Double.isNaN(diagnostics.epochs().getLast().activations().get(j).saturated());
                int jj = j;
                panels.add(new LineChart.Panel(acts.get(j) + (relu ? " zero %" : " saturated %"), false,
                        new LineChart.Series(relu ? "outputs 0" : "saturated", x,
                                samples.stream().mapToDouble(s -> 100 * s.activation()[jj]).toArray())));
            }
            charts.add(LineChart.render(layer, "epoch", panels, 460, 170));
        }
        List<List<BufferedImage>> rows = new ArrayList<>();
        for (int i = 0; i < charts.size(); i += 3) rows.add(charts.subList(i, Math.min(charts.size(), i + 3)));
        return Pictures.titled(title + ": per sampled step (every " + diagnostics.every() + "), weight gradient norm and"
                + " update/weight ratio (log),\nand the activation after the layer (saturated or zero outputs, %)", Pictures.grid(rows));
    }
}

// The table `isthmus bench profile` prints: one row per (layer, pass) in the order the step ran
// them, the time per call and per step, its share of the step, GFLOP/s for convolutions and
// linear layers, oneDNN reorders and the bytes of the tensors each call reads and writes; then
// the sum of the rows against the step time measured around each whole step (the check), the
// plain step (what the profiling itself costs), and the time per op kind.
package dev.isthmus.examples;

import dev.isthmus.engine.profile.OpProfile;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Formats an {@link OpProfile} against the measured step time. */
final class ProfileTable {
    private ProfileTable() {}

    /** What the check found: the rows' sum, the measured step, and whether they agree within the tolerance. */
    record Check(double rowsMicros, double stepMicros, boolean within) {
        double fraction() { return rowsMicros / stepMicros; }
    }

    static Check check(List<OpProfile.Row> rows, int steps, long stepNanos) {
        double sum = 0;
        for (OpProfile.Row r : rows) sum += r.nanos();
        double rowsMicros = sum / steps / 1e3, stepMicros = stepNanos / (double) steps / 1e3;
        return new Check(rowsMicros, stepMicros, Math.abs(rowsMicros - stepMicros) <= BenchProfile.TOLERANCE * stepMicros);
    }

    static void print(List<OpProfile.Row> rows, int steps, long profiledNanos, long plainNanos, double medianRatio, PrintStream out) {
        double step = profiledNanos / (double) steps / 1e3;   // µs
        int layerWidth = Math.max(5, rows.stream().mapToInt(r -> label(r).length()).max().orElse(5));
        String format = "%-" + layerWidth + "s  %-21s  %-19s  %5s  %10s  %10s  %6s  %8s  %8s  %10s%n";
        out.printf(Locale.ROOT, format, "layer", "op", "pass", "calls", "µs/call", "µs/step", "share", "GFLOP/s", "reorders", "bytes/call");
        Map<String, Double> byOp = new LinkedHashMap<>();
        for (OpProfile.Row r : rows) {
            double perCall = r.nanosPerCall() / 1e3, perStep = r.nanos() / (double) steps / 1e3;
            byOp.merge(r.op, perStep, Double::sum);
            String gflops = r.flopsPerCall == 0 ? "" : String.format(Locale.ROOT, "%.1f", r.flopsPerCall / (r.nanosPerCall()));
            out.printf(Locale.ROOT, format, label(r), r.op, r.pass, callsPerStep(r.calls(), steps),
                    String.format(Locale.ROOT, "%.1f", perCall), String.format(Locale.ROOT, "%.1f", perStep),
                    percent(perStep / step), gflops, String.format(Locale.ROOT, "%.1f", r.reorders() / (double) r.calls()),
                    bytes(r.bytesPerCall()));
        }
        Check c = check(rows, steps, profiledNanos);
        out.printf(Locale.ROOT, format, "rows", "", "", "", "", String.format(Locale.ROOT, "%.1f", c.rowsMicros()),
                percent(c.fraction()), "", "", "");
        out.printf(Locale.ROOT, format, "step", "(measured)", "", "", "", String.format(Locale.ROOT, "%.1f", step),
                "100%", "", "", "");
        out.println();
        out.printf(Locale.ROOT, "check: the rows add up to %.1f µs of the %.1f µs measured per step (%.1f%%): %s%n",
                c.rowsMicros(), c.stepMicros(), 100 * c.fraction(),
                c.within() ? "within 5%" : "NOT within 5% (the difference is time outside any plan: Java between the ops, or a busy machine)");
        double plain = plainNanos / (double) steps / 1e3;
        out.printf(Locale.ROOT, "plain step (the same model compiled without the profiler, alternating with it): %.1f µs; "
                + "profiled/plain %.3f (totals), %.3f (median over blocks of %d steps)%n", plain, step / plain, medianRatio, BenchProfile.BLOCK);
        out.print("by op:");
        for (var e : byOp.entrySet()) out.printf(Locale.ROOT, " %s %.1f µs (%s);", e.getKey(), e.getValue(), percent(e.getValue() / step));
        out.println();
    }

    private static String label(OpProfile.Row r) { return r.layer.isEmpty() ? "-" : r.layer; }

    private static String callsPerStep(long calls, int steps) {
        return calls % steps == 0 ? Long.toString(calls / steps) : String.format(Locale.ROOT, "%.2f", calls / (double) steps);
    }

    private static String percent(double f) { return String.format(Locale.ROOT, "%.1f%%", 100 * f); }

    static String bytes(long b) {
        if (b >= 1 << 20) return String.format(Locale.ROOT, "%.1f MB", b / 1048576.0);
        if (b >= 1 << 10) return String.format(Locale.ROOT, "%.1f KB", b / 1024.0);
        return b + " B";
    }
}

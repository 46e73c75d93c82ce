// The results of `isthmus bench compare`: one value per row, peer and measured round; printed as
// one Markdown table of medians with the min-max over rounds, and paired ratios (the median over
// rounds of Isthmus's value divided by the peer's value of the same round: the peers of one round
// ran back to back, so drift on a shared machine cancels in the pair).
package dev.isthmus.examples;

import dev.isthmus.examples.CompareIsthmus.Peer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Rows of per-round values and their summary. */
final class CompareTable {
    /**
     * One line of the table. {@code higherIsBetter}: a throughput (ratios are Isthmus/peer
     * throughput, above 1 means Isthmus is faster) or a time (ratios are Isthmus/peer time, below
     * 1 means Isthmus is faster).
     */
    static final class Row {
        final String label, unit;
        final boolean higherIsBetter;
        final Map<Peer, List<Double>> values = new EnumMap<>(Peer.class);

        Row(String label, String unit, boolean higherIsBetter) {
            this.label = label;
            this.unit = unit;
            this.higherIsBetter = higherIsBetter;
        }

        /** The median over rounds, NaN where the peer did not run this row. */
        double median(Peer p) {
            List<Double> v = values.get(p);
            return v == null || v.isEmpty() ? Double.NaN : median(v.stream().mapToDouble(Double::doubleValue).toArray());
        }

        /** The median over rounds of isthmus's value / peer's value in the same round; NaN if either is missing. */
        double ratio(Peer isthmus, Peer peer) {
            List<Double> a = values.get(isthmus), b = values.get(peer);
            if (a == null || b == null || a.isEmpty() || a.size() != b.size()) return Double.NaN;
            double[] r = new double[a.size()];
            for (int i = 0; i < r.length; i++) r[i] = a.get(i) / b.get(i);
            return median(r);
        }

        String cell(Peer p) {
            List<Double> v = values.get(p);
            if (v == null || v.isEmpty()) return "—";
            double min = v.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            double max = v.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            return v.size() == 1 ? number(median(p)) : number(median(p)) + " (" + number(min) + "–" + number(max) + ")";
        }

        static double median(double[] v) {
            double[] s = v.clone();
            Arrays.sort(s);
            int n = s.length;
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }
    }

    /** The ratio columns: Isthmus on the first peer over the second. */
    static final List<Peer[]> RATIOS = List.of(
            new Peer[] {Peer.DNNL, Peer.TORCH}, new Peer[] {Peer.SIMD, Peer.TORCH}, new Peer[] {Peer.DNNL, Peer.C},
            new Peer[] {Peer.DNNL, Peer.ORT}, new Peer[] {Peer.SIMD, Peer.ORT});

    private final Map<String, Row> rows = new LinkedHashMap<>();

    Row row(String label, String unit, boolean higherIsBetter) {
        return rows.computeIfAbsent(label, l -> new Row(l, unit, higherIsBetter));
    }

    Row get(String label) { return rows.get(label); }

    void add(String label, Peer peer, double value) {
        rows.get(label).values.computeIfAbsent(peer, p -> new ArrayList<>()).add(value);
    }

    /** The Markdown table: medians (min–max over rounds) per peer, then the ratio columns. */
    String markdown() {
        List<String> header = new ArrayList<>(List.of("workload", "unit"));
        for (Peer p : Peer.values()) header.add(p.title);
        for (Peer[] r : RATIOS) header.add(shortName(r[0]) + "/" + shortName(r[1]));
        List<List<String>> lines = new ArrayList<>();
        for (Row row : rows.values()) {
            List<String> line = new ArrayList<>(List.of(row.label, row.unit + (row.higherIsBetter ? " ↑" : " ↓")));
            for (Peer p : Peer.values()) line.add(row.cell(p));
            for (Peer[] r : RATIOS) {
                double x = row.ratio(r[0], r[1]);
                line.add(Double.isNaN(x) ? "—" : String.format(Locale.ROOT, "%.2fx", x));
            }
            lines.add(line);
        }
        int[] width = new int[header.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = header.get(i).length();
            for (List<String> l : lines) width[i] = Math.max(width[i], l.get(i).length());
        }
        StringBuilder s = new StringBuilder();
        appendLine(s, header, width);
        List<String> rule = new ArrayList<>();
        for (int w : width) rule.add("-".repeat(w));
        appendLine(s, rule, width);
        for (List<String> l : lines) appendLine(s, l, width);
        return s.toString();
    }

    private static void appendLine(StringBuilder s, List<String> cells, int[] width) {
        s.append('|');
        for (int i = 0; i < cells.size(); i++) {
            s.append(' ').append(cells.get(i)).append(" ".repeat(width[i] - cells.get(i).length())).append(" |");
        }
        s.append('\n');
    }

    static String shortName(Peer p) {
        return switch (p) {
            case DNNL -> "dnnl";
            case SIMD -> "simd";
            case TORCH -> "PyTorch";
            case C -> "C";
            case ORT -> "ORT";
        };
    }

    /** Three significant digits, without exponent for the ranges seen here. */
    static String number(double x) {
        if (Double.isNaN(x)) return "—";
        double a = Math.abs(x);
        if (a >= 1000) return String.format(Locale.ROOT, "%,.0f", x);
        if (a >= 100) return String.format(Locale.ROOT, "%.0f", x);
        if (a >= 10) return String.format(Locale.ROOT, "%.1f", x);
        if (a >= 1) return String.format(Locale.ROOT, "%.2f", x);
        if (a >= 0.01) return String.format(Locale.ROOT, "%.3f", x);
        return String.format(Locale.ROOT, "%.2e", x);
    }
}

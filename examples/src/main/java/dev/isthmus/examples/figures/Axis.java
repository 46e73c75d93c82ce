package dev.isthmus.examples.figures;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A value range with "nice" ticks (1, 2, 5 times a power of ten; decades on
 * a log axis) and the mapping from values to pixels.
 */
record Axis(double lo, double hi, boolean log, List<Double> ticks, int decimals) {

    /** A linear axis covering [min, max] (both finite), widened to whole ticks. */
    static Axis linear(double min, double max, int targetTicks) {
        if (min == max) {
            double pad = min == 0 ? 1 : Math.abs(min) * 0.1;
            min -= pad;
            max += pad;
        }
        double step = niceStep((max - min) / Math.max(1, targetTicks));
        double lo = Math.floor(min / step) * step, hi = Math.ceil(max / step) * step;
        List<Double> ticks = new ArrayList<>();
        long n = Math.round((hi - lo) / step);
        for (long i = 0; i <= n; i++) ticks.add(clean(lo + i * step, step));
        int decimals = (int) Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
        return new Axis(lo, hi, false, ticks, decimals);
    }

    /** A log10 axis covering [min, max] (both > 0), widened to whole decades. */
    static Axis log(double min, double max) {
        int a = (int) Math.floor(Math.log10(min) + 1e-12), b = (int) Math.ceil(Math.log10(max) - 1e-12);
        if (b <= a) b = a + 1;
        List<Double> ticks = new ArrayList<>();
        int every = Math.max(1, (b - a + 7) / 8); // at most ~8 labelled decades
        for (int e = a; e <= b; e += every) ticks.add(Math.pow(10, e));
        return new Axis(Math.pow(10, a), Math.pow(10, b), true, ticks, 0);
    }

    static double niceStep(double raw) {
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / mag;
        double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
        return nice * mag;
    }

    private static double clean(double v, double step) {
        double r = Math.round(v / step) * step;
        return Math.abs(r) < step * 1e-9 ? 0 : r;
    }

    /** Position of {@code v} in [0, 1] along the axis. */
    double fraction(double v) {
        if (log) return (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
        return (v - lo) / (hi - lo);
    }

    /** Whether {@code v} can be placed on this kind of axis. */
    boolean plottable(double v) {
        return Double.isFinite(v) && (!log || v > 0);
    }

    String label(double v) {
        if (log) {
            int e = (int) Math.round(Math.log10(v));
            if (e >= -3 && e <= 4) return format(v, Math.max(0, -e));
            return "1e" + e;
        }
        return format(v, decimals);
    }

    static String format(double v, int decimals) {
        String s = String.format(Locale.ROOT, "%." + decimals + "f", v);
        return s.equals("-0") || s.matches("-0\\.0+") ? s.substring(1) : s;
    }
}

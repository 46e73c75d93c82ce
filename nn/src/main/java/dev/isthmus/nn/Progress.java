package dev.isthmus.nn;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of an epoch on the terminal: a bar redrawn in place (batches done, images/s,
 * running loss, ETA) when stderr is a terminal, a plain line every quarter epoch otherwise
 * (logs and CI). Redraws at most ten times a second so printing never costs training time.
 */
public final class Progress {
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final boolean quiet;
    private volatile String label = "";
    private volatile int total, done;   // read by an interrupt handler on another thread
    private long start, lastDraw;
    private int lastQuarter;

    public Progress(PrintStream out, boolean terminal, boolean quiet) {
        this.out = out;
        this.terminal = terminal;
        this.quiet = quiet;
    }

    /** Progress on stderr, drawn in place when a terminal is attached. */
    public static Progress onStderr() {
        var console = System.console();
        return new Progress(System.err, console != null && console.isTerminal(), false);
    }

    /** No output at all (tests, benchmarks). */
    public static Progress silent() {
        return new Progress(System.err, false, true);
    }

    public void start(String label, int totalBatches) {
        this.label = label;
        this.total = totalBatches;
        this.start = this.lastDraw = System.nanoTime();
        this.lastQuarter = 0;
        this.done = 0;
    }

    /** Where the run is, "epoch 3/10, batch 812 of 937" (for the message of an interrupted run). */
    public String position() {
        return label + ", batch " + done + " of " + total;
    }

    /** Called after each batch; cheap unless it is time to redraw. */
    public void update(int done, long images, double runningLoss) {
        this.done = done;
        if (quiet) return;
        long now = System.nanoTime();
        if (terminal) {
            if (now - lastDraw < REDRAW_NANOS && done < total) return;
            lastDraw = now;
            out.print("\r" + line(done, images, runningLoss, now) + "\u001b[K");
            out.flush();
        } else {
            int quarter = total == 0 ? 4 : 4 * done / total;
            if (quarter > lastQuarter && done < total) {
                lastQuarter = quarter;
                out.println(line(done, images, runningLoss, now));
            }
        }
    }

    /** Clears the bar so the caller's summary line starts clean. */
    public void finish() {
        if (quiet || !terminal) return;
        out.print("\r\u001b[K");
        out.flush();
    }

    private String line(int done, long images, double runningLoss, long now) {
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? images / seconds : 0;
        double eta = done > 0 ? seconds * (total - done) / done : 0;
        int width = 24;
        int filled = total == 0 ? width : (int) ((long) width * done / total);
        String bar = "#".repeat(filled) + ".".repeat(width - filled);
        return String.format(Locale.ROOT, "%s [%s] %d/%d  %,.0f img/s  loss %.4f  eta %s",
                label, bar, done, total, rate, runningLoss, formatSeconds(eta));
    }

    static String formatSeconds(double s) {
        long t = Math.round(s);
        return t >= 60 ? String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60) : t + "s";
    }
}

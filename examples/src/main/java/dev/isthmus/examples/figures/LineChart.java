package dev.isthmus.examples.figures;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Line charts of named (x, y) series in one or more stacked panels that share
 * the x axis, e.g. training loss (log scale) above validation and test error
 * in percent, per epoch: {@code curves.png}. Axes with numeric ticks, a title,
 * a legend per panel, deterministic pixels (see {@link Canvas}).
 *
 * <p>Points whose x or y is NaN or infinite (or y &lt;= 0 on a log axis) are
 * skipped and break the line; an empty series, or a panel with no point to
 * plot, is an {@link IllegalArgumentException}.
 */
public final class LineChart {

    /** One curve; {@code x} and {@code y} have the same, non-zero length. */
    public record Series(String name, double[] x, double[] y) {
        public Series {
            if (name == null) throw new IllegalArgumentException("LineChart.Series: name is null");
            if (x == null || y == null) throw new IllegalArgumentException("series '" + name + "': x or y is null");
            if (x.length != y.length) {
                throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length + " y values");
            }
            if (x.length == 0) throw new IllegalArgumentException("series '" + name + "' is empty: nothing to plot");
            x = x.clone();
            y = y.clone();
        }

        /** y against 1, 2, 3, ... (epochs). */
        public static Series ofEpochs(String name, double[] y) {
            double[] x = new double[y.length];
            for (int i = 0; i < x.length; i++) x[i] = i + 1;
            return new Series(name, x, y);
        }
    }

    /** One stacked plot: a heading (the y quantity), linear or log10 y, its series. */
    public record Panel(String yLabel, boolean logY, List<Series> series) {
        public Panel {
            if (series == null || series.isEmpty()) {
                throw new IllegalArgumentException("panel '" + yLabel + "' has no series");
            }
            yLabel = yLabel == null ? "" : yLabel;
            series = List.copyOf(series);
        }

        public Panel(String yLabel, boolean logY, Series... series) {
            this(yLabel, logY, List.of(series));
        }
    }

    static final int SCALE = 2;                                        // text scale
    static final int LEFT = 110, RIGHT = 24, HEADING = 26, BOTTOM = 40; // panel margins in pixels
    static final int TITLE_HEIGHT = 34, XLABEL_HEIGHT = 26;

    /** Where a panel's plot box lies and how values map to pixels; package-private for tests. */
    record Plot(int left, int top, int right, int bottom, Axis x, Axis y) {
        int px(double v) {
            return left + (int) Math.round(x.fraction(v) * (right - left));
        }

        int py(double v) {
            return bottom - (int) Math.round(y.fraction(v) * (bottom - top));
        }
    }

    private LineChart() {}

    /** Renders the chart: {@code width} wide, {@code panelHeight} per panel plus title and x label. */
    public static BufferedImage render(String title, String xLabel, List<Panel> panels, int width, int panelHeight) {
        return render(title, xLabel, false, panels, width, panelHeight);
    }

    /** {@link #render} with a log10 x axis when {@code logX} (x &lt;= 0 then skipped): learning rates. */
    public static BufferedImage render(String title, String xLabel, boolean logX, List<Panel> panels, int width, int panelHeight) {
        List<Plot> plots = layout(title, panels, width, panelHeight, logX);
        Canvas c = new Canvas(width, height(title, panels.size(), panelHeight));
        if (title != null && !title.isEmpty()) {
            c.text((width - BitmapFont.width(title, SCALE)) / 2, 10, title, SCALE, Canvas.BLACK);
        }
        for (int p = 0; p < panels.size(); p++) draw(c, panels.get(p), plots.get(p));
        if (xLabel != null && !xLabel.isEmpty()) {
            Plot last = plots.getLast();
            int y = c.height - XLABEL_HEIGHT + 4;
            c.text((last.left() + last.right() - BitmapFont.width(xLabel, SCALE)) / 2, y, xLabel, SCALE, Canvas.BLACK);
        }
        return c.toImage();
    }

    /** {@link #render} then {@link Png#write}. */
    public static void write(Path png, String title, String xLabel, List<Panel> panels, int width, int panelHeight)
            throws IOException {
        Png.write(render(title, xLabel, panels, width, panelHeight), png);
    }

    static int height(String title, int panels, int panelHeight) {
        return (title == null || title.isEmpty() ? 8 : TITLE_HEIGHT) + panels * panelHeight + XLABEL_HEIGHT;
    }

    static List<Plot> layout(String title, List<Panel> panels, int width, int panelHeight) {
        return layout(title, panels, width, panelHeight, false);
    }

    static List<Plot> layout(String title, List<Panel> panels, int width, int panelHeight, boolean logX) {
        if (panels == null || panels.isEmpty()) throw new IllegalArgumentException("LineChart: no panels");
        if (width < LEFT + RIGHT + 40 || panelHeight < HEADING + BOTTOM + 40) {
            throw new IllegalArgumentException("LineChart: " + width + "x" + panelHeight + " per panel is too small; need at least "
                    + (LEFT + RIGHT + 40) + "x" + (HEADING + BOTTOM + 40));
        }
        double xMin = Double.POSITIVE_INFINITY, xMax = Double.NEGATIVE_INFINITY;
        List<double[]> yRanges = new ArrayList<>();
        for (Panel p : panels) {
            double yMin = Double.POSITIVE_INFINITY, yMax = Double.NEGATIVE_INFINITY;
            for (Series s : p.series()) {
                for (int i = 0; i < s.x().length; i++) {
                    double x = s.x()[i], y = s.y()[i];
                    if (!Double.isFinite(x) || !Double.isFinite(y) || (p.logY() && y <= 0) || (logX && x <= 0)) continue;
                    xMin = Math.min(xMin, x);
                    xMax = Math.max(xMax, x);
                    yMin = Math.min(yMin, y);
                    yMax = Math.max(yMax, y);
                }
            }
            if (yMin > yMax) {
                throw new IllegalArgumentException("panel '" + p.yLabel() + "': no point to plot (all x or y are NaN/infinite"
                        + (p.logY() ? ", or y <= 0 on the log axis)" : ")"));
            }
            yRanges.add(new double[] {yMin, yMax});
        }
        Axis xAxis = logX ? Axis.log(xMin, xMax) : Axis.linear(xMin, xMax, Math.max(2, (width - LEFT - RIGHT) / 90));
        int top = title == null || title.isEmpty() ? 8 : TITLE_HEIGHT;
        List<Plot> plots = new ArrayList<>();
        for (int p = 0; p < panels.size(); p++) {
            double[] r = yRanges.get(p);
            Axis yAxis = panels.get(p).logY() ? Axis.log(r[0], r[1]) : Axis.linear(r[0], r[1], Math.max(2, panelHeight / 60));
            int y0 = top + p * panelHeight;
            plots.add(new Plot(LEFT, y0 + HEADING, width - RIGHT, y0 + panelHeight - BOTTOM, xAxis, yAxis));
        }
        return plots;
    }

    private static void draw(Canvas c, Panel panel, Plot plot) {
        int textH = BitmapFont.height(SCALE);
        String heading = panel.yLabel() + (panel.logY() ? " (log scale)" : "");
        c.text(plot.left(), plot.top() - textH - 6, heading, SCALE, Canvas.BLACK);

        for (double t : plot.y().ticks()) {
            int y = plot.py(t);
            c.fillRect(plot.left() + 1, y, plot.right() - plot.left() - 1, 1, Canvas.LIGHT_GREY);
            c.fillRect(plot.left() - 5, y, 5, 1, Canvas.BLACK);
            String s = plot.y().label(t);
            c.text(plot.left() - 9 - BitmapFont.width(s, SCALE), y - textH / 2, s, SCALE, Canvas.BLACK);
        }
        for (double t : plot.x().ticks()) {
            int x = plot.px(t);
            c.fillRect(x, plot.top() + 1, 1, plot.bottom() - plot.top() - 1, Canvas.LIGHT_GREY);
            c.fillRect(x, plot.bottom() + 1, 1, 5, Canvas.BLACK);
            String s = plot.x().label(t);
            c.text(x - BitmapFont.width(s, SCALE) / 2, plot.bottom() + 10, s, SCALE, Canvas.BLACK);
        }
        c.strokeRect(plot.left(), plot.top(), plot.right() - plot.left() + 1, plot.bottom() - plot.top() + 1, Canvas.BLACK);

        for (int s = 0; s < panel.series().size(); s++) {
            Series series = panel.series().get(s);
            int color = Canvas.PALETTE[s % Canvas.PALETTE.length];
            boolean markers = series.x().length <= 60;
            int px = 0, py = 0;
            boolean havePrevious = false;
            for (int i = 0; i < series.x().length; i++) {
                double x = series.x()[i], y = series.y()[i];
                if (!plot.x().plottable(x) || !plot.y().plottable(y)) {
                    havePrevious = false; // a gap: do not join across it
                    continue;
                }
                int qx = plot.px(x), qy = plot.py(y);
                if (havePrevious) c.line(px, py, qx, qy, 2, color);
                if (markers) c.fillRect(qx - 2, qy - 2, 5, 5, color);
                px = qx;
                py = qy;
                havePrevious = true;
            }
        }
        legend(c, panel, plot);
    }

    private static void legend(Canvas c, Panel panel, Plot plot) {
        int textH = BitmapFont.height(SCALE);
        int rowH = textH + 6, swatch = 22;
        int textW = 0;
        for (Series s : panel.series()) textW = Math.max(textW, BitmapFont.width(s.name(), SCALE));
        int w = 8 + swatch + 6 + textW + 8, h = 6 + rowH * panel.series().size();
        int x = plot.right() - w - 6, y = plot.top() + 6;
        c.fillRect(x, y, w, h, Canvas.WHITE);
        c.strokeRect(x, y, w, h, Canvas.GREY);
        for (int s = 0; s < panel.series().size(); s++) {
            int color = Canvas.PALETTE[s % Canvas.PALETTE.length];
            int ry = y + 6 + s * rowH;
            c.fillRect(x + 8, ry + textH / 2 - 1, swatch, 3, color);
            c.text(x + 8 + swatch + 6, ry, panel.series().get(s).name(), SCALE, Canvas.BLACK);
        }
    }
}

package dev.isthmus.examples.figures;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A simple bar chart with one label per bar (e.g. mean activation per layer),
 * vertical or horizontal. Negative values grow from zero the other way; a
 * NaN or infinite value draws no bar, only its label.
 */
public final class BarChart {

    /** One bar. */
    public record Bar(String label, double value) {
        public Bar {
            label = label == null ? "" : label;
        }
    }

    static final int SCALE = 2, PAD = 12, TITLE_HEIGHT = 34;

    private BarChart() {}

    /** Renders {@code bars} into a {@code width x height} image. */
    public static BufferedImage render(String title, List<Bar> bars, boolean horizontal, int width, int height) {
        if (bars == null || bars.isEmpty()) throw new IllegalArgumentException("BarChart: no bars to draw");
        double min = 0, max = 0; // zero is always on the axis
        for (Bar b : bars) {
            if (Double.isFinite(b.value())) {
                min = Math.min(min, b.value());
                max = Math.max(max, b.value());
            }
        }
        int textH = BitmapFont.height(SCALE);
        int labelW = 0;
        for (Bar b : bars) labelW = Math.max(labelW, BitmapFont.width(b.label(), SCALE));
        int top = title == null || title.isEmpty() ? PAD : TITLE_HEIGHT;
        Canvas c = new Canvas(width, height);
        if (top == TITLE_HEIGHT) c.text((width - BitmapFont.width(title, SCALE)) / 2, 10, title, SCALE, Canvas.BLACK);

        if (horizontal) {
            int left = PAD + labelW + 10, right = width - PAD - 30, bottom = height - PAD - textH - 12;
            checkRoom(right - left, bottom - top, width, height);
            Axis axis = Axis.linear(min, max, Math.max(2, (right - left) / 100));
            int zero = left + (int) Math.round(axis.fraction(0) * (right - left));
            for (double t : axis.ticks()) {
                int x = left + (int) Math.round(axis.fraction(t) * (right - left));
                c.fillRect(x, top, 1, bottom - top, Canvas.LIGHT_GREY);
                String s = axis.label(t);
                c.text(x - BitmapFont.width(s, SCALE) / 2, bottom + 8, s, SCALE, Canvas.BLACK);
            }
            int slot = (bottom - top) / bars.size();
            for (int i = 0; i < bars.size(); i++) {
                Bar b = bars.get(i);
                int y = top + i * slot, barH = Math.max(1, slot * 7 / 10);
                c.text(left - 10 - BitmapFont.width(b.label(), SCALE), y + (slot - textH) / 2, b.label(), SCALE, Canvas.BLACK);
                if (!Double.isFinite(b.value())) continue;
                int x = left + (int) Math.round(axis.fraction(b.value()) * (right - left));
                c.fillRect(Math.min(zero, x), y + (slot - barH) / 2, Math.abs(x - zero) + 1, barH, Canvas.PALETTE[0]);
            }
            c.fillRect(zero, top, 1, bottom - top, Canvas.BLACK);
            c.fillRect(left, bottom, right - left + 1, 1, Canvas.BLACK);
        } else {
            int yLabelW = 0;
            Axis axis0 = Axis.linear(min, max, 5);
            for (double t : axis0.ticks()) yLabelW = Math.max(yLabelW, BitmapFont.width(axis0.label(t), SCALE));
            int left = PAD + yLabelW + 10, right = width - PAD, bottom = height - PAD - textH - 8;
            checkRoom(right - left, bottom - top, width, height);
            Axis axis = Axis.linear(min, max, Math.max(2, (bottom - top) / 60));
            int zero = bottom - (int) Math.round(axis.fraction(0) * (bottom - top));
            for (double t : axis.ticks()) {
                int y = bottom - (int) Math.round(axis.fraction(t) * (bottom - top));
                c.fillRect(left, y, right - left, 1, Canvas.LIGHT_GREY);
                String s = axis.label(t);
                c.text(left - 8 - BitmapFont.width(s, SCALE), y - textH / 2, s, SCALE, Canvas.BLACK);
            }
            int slot = (right - left) / bars.size();
            for (int i = 0; i < bars.size(); i++) {
                Bar b = bars.get(i);
                int x = left + i * slot, barW = Math.max(1, slot * 7 / 10);
                String label = fit(b.label(), slot);
                c.text(x + (slot - BitmapFont.width(label, SCALE)) / 2, bottom + 8, label, SCALE, Canvas.BLACK);
                if (!Double.isFinite(b.value())) continue;
                int y = bottom - (int) Math.round(axis.fraction(b.value()) * (bottom - top));
                c.fillRect(x + (slot - barW) / 2, Math.min(zero, y), barW, Math.abs(y - zero) + 1, Canvas.PALETTE[0]);
            }
            c.fillRect(left, zero, right - left, 1, Canvas.BLACK);
            c.fillRect(left, top, 1, bottom - top + 1, Canvas.BLACK);
        }
        return c.toImage();
    }

    /** {@link #render} then {@link Png#write}. */
    public static void write(Path png, String title, List<Bar> bars, boolean horizontal, int width, int height)
            throws IOException {
        Png.write(render(title, bars, horizontal, width, height), png);
    }

    private static void checkRoom(int plotW, int plotH, int width, int height) {
        if (plotW < 20 || plotH < 20) {
            throw new IllegalArgumentException("BarChart: " + width + "x" + height + " leaves no room for the bars");
        }
    }

    /** Cuts a label to the characters that fit in {@code px} pixels. */
    private static String fit(String label, int px) {
        int n = Math.max(0, (px / SCALE + 1) / BitmapFont.CELL_WIDTH);
        return label.length() <= n ? label : label.substring(0, n);
    }
}

// Small picture helpers for the lecture demonstrations (`convolve`, `lenet show`): a diverging
// colour map for signed values, a kernel drawn as a heat map with its numbers, titled panels and
// panels stacked side by side or one under another. Everything is drawn pixel by pixel with the
// built-in bitmap font, like the figures package, so the PNGs are identical on every machine.
// It is not a layout engine: panels are pasted, centred, on white.
package dev.isthmus.examples;

import dev.isthmus.examples.figures.BitmapFont;
import dev.isthmus.examples.figures.ImageGrid;

import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Static helpers that build {@link BufferedImage} panels and {@link ImageGrid.Cell}s. */
final class Pictures {
    static final int WHITE = 0xFFFFFF, BLACK = 0x000000, GAP = 10;

    private Pictures() {}

    /**
     * A signed map {@code (height, width)} coloured symmetrically around zero: blue for negative,
     * white for zero, red for positive, full colour at {@code ±max |v|}. An all-zero map is white.
     */
    static ImageGrid.Cell diverging(float[] map, int height, int width, String caption) {
        float m = 0;
        for (float v : map) if (Float.isFinite(v)) m = Math.max(m, Math.abs(v));
        int[] rgb = new int[map.length];
        for (int i = 0; i < map.length; i++) rgb[i] = diverging(m == 0 ? 0 : map[i] / m);
        return new ImageGrid.Cell(width, height, rgb, caption);
    }

    /** The colour of t in [-1, 1]: (49, 54, 149) blue .. white .. (165, 0, 38) red, NaN pure green. */
    static int diverging(float t) {
        if (Float.isNaN(t)) return 0x00FF00;
        float a = Math.min(1f, Math.abs(t));
        int r, g, b;
        if (t >= 0) {
            r = mix(255, 178, a); g = mix(255, 24, a); b = mix(255, 43, a);
        } else {
            r = mix(255, 33, a); g = mix(255, 102, a); b = mix(255, 172, a);
        }
        return r << 16 | g << 8 | b;
    }

    private static int mix(int from, int to, float a) { return Math.round(from + (to - from) * a); }

    /**
     * A kernel {@code (rows, cols)} as a heat map: one square of {@code cell} pixels per weight in the
     * diverging colours (symmetric around zero), its value printed inside, a caption underneath.
     */
    static BufferedImage kernel(float[][] k, int cell, String caption) {
        int rows = k.length, cols = k[0].length;
        float m = 0;
        for (float[] row : k) for (float v : row) m = Math.max(m, Math.abs(v));
        int w = cols * cell + 1, h = rows * cell + 1;
        Sheet s = new Sheet(Math.max(w, textWidth(caption, 2)), h + 6 + BitmapFont.height(2));
        int x0 = (s.width - w) / 2;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float t = m == 0 ? 0 : k[r][c] / m;
                s.fill(x0 + c * cell, r * cell, cell, cell, diverging(t));
                String v = number(k[r][c]);
                int scale = textWidth(v, 2) <= cell - 4 ? 2 : 1;
                int color = Math.abs(t) > 0.6f ? WHITE : BLACK;
                s.text(x0 + c * cell + (cell - textWidth(v, scale)) / 2 + 1, r * cell + (cell - BitmapFont.height(scale)) / 2 + 1,
                        v, scale, color);
            }
        }
        for (int i = 0; i <= rows; i++) s.fill(x0, i * cell, w, 1, 0x909090);
        for (int i = 0; i <= cols; i++) s.fill(x0 + i * cell, 0, 1, h, 0x909090);
        s.text((s.width - textWidth(caption, 2)) / 2, h + 6, caption, 2, BLACK);
        return s.image();
    }

    /** A weight as short text: "8", "-2", "0.04", "-0.31". */
    static String number(float v) {
        if (v == Math.rint(v) && Math.abs(v) < 1000) return Integer.toString((int) v);
        String s = String.format(Locale.ROOT, Math.abs(v) >= 10 ? "%.1f" : "%.2f", v);
        return s.equals("-0.00") ? "0.00" : s;
    }

    /**
     * Panels in a table: every column as wide as its widest panel, every row as tall as its
     * tallest, each panel centred in its slot; null leaves a slot empty.
     */
    static BufferedImage grid(List<List<BufferedImage>> rows) {
        int cols = 0;
        for (List<BufferedImage> r : rows) cols = Math.max(cols, r.size());
        int[] w = new int[cols], h = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            for (int j = 0; j < rows.get(i).size(); j++) {
                BufferedImage p = rows.get(i).get(j);
                if (p == null) continue;
                w[j] = Math.max(w[j], p.getWidth());
                h[i] = Math.max(h[i], p.getHeight());
            }
        }
        Sheet s = new Sheet(Arrays.stream(w).sum() + (cols + 1) * GAP, Arrays.stream(h).sum() + (rows.size() + 1) * GAP);
        int y = GAP;
        for (int i = 0; i < rows.size(); i++) {
            int x = GAP;
            for (int j = 0; j < cols; j++) {
                BufferedImage p = j < rows.get(i).size() ? rows.get(i).get(j) : null;
                if (p != null) s.paste(p, x + (w[j] - p.getWidth()) / 2, y + (h[i] - p.getHeight()) / 2);
                x += w[j] + GAP;
            }
            y += h[i] + GAP;
        }
        return s.image();
    }

    /** {@code panel} with {@code title} (scale 2, one line per '\n', each centred) above it. */
    static BufferedImage titled(String title, BufferedImage panel) {
        List<String> lines = title.lines().toList();
        int lh = BitmapFont.height(2) + 6, th = lines.size() * lh + 8, w = 0;
        for (String l : lines) w = Math.max(w, textWidth(l, 2));
        Sheet s = new Sheet(Math.max(panel.getWidth(), w + 2 * GAP), panel.getHeight() + th);
        for (int i = 0; i < lines.size(); i++) s.text((s.width - textWidth(lines.get(i), 2)) / 2, 6 + i * lh, lines.get(i), 2, BLACK);
        s.paste(panel, (s.width - panel.getWidth()) / 2, th);
        return s.image();
    }

    /** Lines of text (scale 2, left-aligned) as a panel. */
    static BufferedImage text(List<String> lines) {
        int w = 1;
        for (String l : lines) w = Math.max(w, textWidth(l, 2));
        int lh = BitmapFont.height(2) + 6;
        Sheet s = new Sheet(w + 2 * GAP, lines.size() * lh + GAP);
        for (int i = 0; i < lines.size(); i++) s.text(GAP, GAP / 2 + i * lh, lines.get(i), 2, BLACK);
        return s.image();
    }

    /** Panels one under another, each centred, {@code GAP} pixels apart. */
    static BufferedImage column(List<BufferedImage> panels) {
        int w = 0, h = GAP;
        for (BufferedImage p : panels) { w = Math.max(w, p.getWidth()); h += p.getHeight() + GAP; }
        Sheet s = new Sheet(w + 2 * GAP, h);
        int y = GAP;
        for (BufferedImage p : panels) { s.paste(p, GAP + (w - p.getWidth()) / 2, y); y += p.getHeight() + GAP; }
        return s.image();
    }

    /** Panels side by side, each centred vertically, {@code GAP} pixels apart. */
    static BufferedImage row(List<BufferedImage> panels) {
        int w = GAP, h = 0;
        for (BufferedImage p : panels) { h = Math.max(h, p.getHeight()); w += p.getWidth() + GAP; }
        Sheet s = new Sheet(w, h + 2 * GAP);
        int x = GAP;
        for (BufferedImage p : panels) { s.paste(p, x, GAP + (h - p.getHeight()) / 2); x += p.getWidth() + GAP; }
        return s.image();
    }

    static int textWidth(String s, int scale) { return BitmapFont.width(s, scale); }

    /** A white RGB pixel buffer with rectangles, bitmap text and pasted images. */
    static final class Sheet {
        final int width, height;
        final int[] rgb; // (height, width) 0xRRGGBB

        Sheet(int width, int height) {
            this.width = Math.max(1, width);
            this.height = Math.max(1, height);
            rgb = new int[this.width * this.height];
            Arrays.fill(rgb, WHITE);
        }

        void fill(int x, int y, int w, int h, int color) {
            for (int py = Math.max(0, y); py < Math.min(height, y + h); py++) {
                for (int px = Math.max(0, x); px < Math.min(width, x + w); px++) rgb[py * width + px] = color;
            }
        }

        void text(int x, int y, String s, int scale, int color) {
            for (int i = 0; i < s.length(); i++) {
                int cx = x + i * BitmapFont.CELL_WIDTH * scale;
                for (int col = 0; col < BitmapFont.GLYPH_WIDTH; col++) {
                    for (int row = 0; row < BitmapFont.GLYPH_HEIGHT; row++) {
                        if (BitmapFont.pixel(s.charAt(i), col, row)) fill(cx + col * scale, y + row * scale, scale, scale, color);
                    }
                }
            }
        }

        void paste(BufferedImage img, int x, int y) {
            int[] src = img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
            for (int py = 0; py < img.getHeight(); py++) {
                int ty = y + py;
                if (ty < 0 || ty >= height) continue;
                for (int px = 0; px < img.getWidth(); px++) {
                    int tx = x + px;
                    if (tx >= 0 && tx < width) rgb[ty * width + tx] = src[py * img.getWidth() + px] & 0xFFFFFF;
                }
            }
        }

        BufferedImage image() {
            BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            img.setRGB(0, 0, width, height, rgb, 0, width);
            return img;
        }
    }
}

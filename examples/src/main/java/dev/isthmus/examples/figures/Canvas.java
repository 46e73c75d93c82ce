package dev.isthmus.examples.figures;

import java.awt.image.BufferedImage;

/**
 * A plain RGB pixel buffer with the few primitives the figures need: filled
 * rectangles, Bresenham lines with a square pen, and bitmap text. Drawing by
 * hand (no Graphics2D, no antialiasing, no fonts) makes every PNG
 * byte-identical across machines and JDKs.
 */
final class Canvas {

    static final int WHITE = 0xFFFFFF, BLACK = 0x000000, GREY = 0x808080, LIGHT_GREY = 0xE0E0E0;

    /** Series colours, Matplotlib's "tab10" order. */
    static final int[] PALETTE = {
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD, 0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF
    };

    final int width, height;
    final int[] rgb; // (height, width), 0xRRGGBB

    Canvas(int width, int height) {
        if (width <= 0 || height <= 0 || (long) width * height > 100_000_000L) {
            throw new IllegalArgumentException("figure size " + width + "x" + height + " out of range");
        }
        this.width = width;
        this.height = height;
        this.rgb = new int[width * height];
        java.util.Arrays.fill(rgb, WHITE);
    }

    void set(int x, int y, int color) {
        if (x >= 0 && x < width && y >= 0 && y < height) rgb[y * width + x] = color;
    }

    int get(int x, int y) {
        return rgb[y * width + x];
    }

    void fillRect(int x, int y, int w, int h, int color) {
        int x0 = Math.max(0, x), y0 = Math.max(0, y);
        int x1 = Math.min(width, x + w), y1 = Math.min(height, y + h);
        for (int py = y0; py < y1; py++) {
            java.util.Arrays.fill(rgb, py * width + x0, Math.max(py * width + x0, py * width + x1), color);
        }
    }

    /** A 1-pixel rectangle outline. */
    void strokeRect(int x, int y, int w, int h, int color) {
        fillRect(x, y, w, 1, color);
        fillRect(x, y + h - 1, w, 1, color);
        fillRect(x, y, 1, h, color);
        fillRect(x + w - 1, y, 1, h, color);
    }

    /** Bresenham from (x0, y0) to (x1, y1) with a square pen of side {@code thickness}. */
    void line(int x0, int y0, int x1, int y1, int thickness, int color) {
        int dx = Math.abs(x1 - x0), dy = -Math.abs(y1 - y0);
        int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
        int err = dx + dy;
        int off = (thickness - 1) / 2;
        while (true) {
            fillRect(x0 - off, y0 - off, thickness, thickness, color);
            if (x0 == x1 && y0 == y1) break;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    void text(int x, int y, String s, int scale, int color) {
        BitmapFont.draw(rgb, width, height, x, y, s, scale, color);
    }

    BufferedImage toImage() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, width, height, rgb, 0, width);
        return img;
    }
}

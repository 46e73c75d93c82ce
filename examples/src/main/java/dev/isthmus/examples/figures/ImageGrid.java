package dev.isthmus.examples.figures;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A grid of small images, each upscaled by an integer factor (nearest
 * neighbour) with a caption underneath ("7->2"), and an optional title: for
 * misclassified digits ({@code misclassified.png}), learned filters, feature
 * maps (each normalised to its own min/max) and RGB crops.
 *
 * <p>NaN pixels are drawn pure red so that they stand out.
 */
public final class ImageGrid {

    /** One image as packed 0xRRGGBB pixels, row-major {@code (height, width)}, with its caption (may be empty). */
    public record Cell(int width, int height, int[] rgb, String caption) {
        public Cell {
            if (width <= 0 || height <= 0) throw new IllegalArgumentException("ImageGrid.Cell: size " + width + "x" + height);
            if (rgb == null || rgb.length != width * height) {
                throw new IllegalArgumentException("ImageGrid.Cell: " + width + "x" + height + " needs " + width * height
                        + " pixels, got " + (rgb == null ? "null" : rgb.length));
            }
            caption = caption == null ? "" : caption;
            rgb = rgb.clone();
        }
    }

    static final int NAN_COLOR = 0xFF0000;
    static final int PAD = 6, TITLE_HEIGHT = 34, TITLE_SCALE = 2;

    private ImageGrid() {}

    /** Greyscale {@code (height, width)} floats mapped linearly from [lo, hi] to black..white, clamped. */
    public static Cell grey(float[] pixels, int height, int width, float lo, float hi, String caption) {
        check(pixels.length, height * width, height, width, "grey");
        if (!(hi > lo)) throw new IllegalArgumentException("ImageGrid.grey: need lo < hi, got [" + lo + ", " + hi + "]");
        int[] rgb = new int[pixels.length];
        for (int i = 0; i < rgb.length; i++) rgb[i] = greyLevel(pixels[i], lo, hi);
        return new Cell(width, height, rgb, caption);
    }

    /** Greyscale {@code (height, width)} unsigned bytes, 0 black, 255 white (MNIST IDX pixels). */
    public static Cell grey(byte[] pixels, int height, int width, String caption) {
        check(pixels.length, height * width, height, width, "grey");
        int[] rgb = new int[pixels.length];
        for (int i = 0; i < rgb.length; i++) {
            int v = pixels[i] & 0xFF;
            rgb[i] = v << 16 | v << 8 | v;
        }
        return new Cell(width, height, rgb, caption);
    }

    /** A feature map or filter {@code (height, width)}, normalised to its own min/max; a constant map is mid grey. */
    public static Cell normalized(float[] map, int height, int width, String caption) {
        check(map.length, height * width, height, width, "normalized");
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (float v : map) {
            if (Float.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (!(hi > lo)) { // constant (or no finite value): show mid grey, not a division by zero
            hi = (lo == Float.POSITIVE_INFINITY ? 0 : lo) + 1;
            lo = hi - 2;
        }
        return grey(map, height, width, lo, hi, caption);
    }

    /** Colour, planar {@code (3, height, width)} (the C of NCHW), each channel mapped from [lo, hi] to 0..255. */
    public static Cell rgb(float[] chw, int height, int width, float lo, float hi, String caption) {
        check(chw.length, 3 * height * width, height, width, "rgb");
        if (!(hi > lo)) throw new IllegalArgumentException("ImageGrid.rgb: need lo < hi, got [" + lo + ", " + hi + "]");
        int plane = height * width;
        int[] rgb = new int[plane];
        for (int i = 0; i < plane; i++) {
            float r = chw[i], g = chw[plane + i], b = chw[2 * plane + i];
            rgb[i] = Float.isNaN(r) || Float.isNaN(g) || Float.isNaN(b) ? NAN_COLOR
                    : level(r, lo, hi) << 16 | level(g, lo, hi) << 8 | level(b, lo, hi);
        }
        return new Cell(width, height, rgb, caption);
    }

    /** Renders {@code cells} row by row, {@code columns} per row, each pixel as a {@code scale x scale} block. */
    public static BufferedImage render(String title, List<Cell> cells, int columns, int scale) {
        Layout l = layout(title, cells, columns, scale);
        Canvas c = new Canvas(l.width(), l.height());
        if (l.titleHeight() > 0) {
            c.text((l.width() - BitmapFont.width(title, TITLE_SCALE)) / 2, 10, title, TITLE_SCALE, Canvas.BLACK);
        }
        for (int i = 0; i < cells.size(); i++) {
            Cell cell = cells.get(i);
            int[] o = l.imageOrigin(i, cell);
            c.strokeRect(o[0] - 1, o[1] - 1, cell.width() * scale + 2, cell.height() * scale + 2, Canvas.LIGHT_GREY);
            for (int y = 0; y < cell.height(); y++) {
                for (int x = 0; x < cell.width(); x++) {
                    c.fillRect(o[0] + x * scale, o[1] + y * scale, scale, scale, cell.rgb()[y * cell.width() + x]);
                }
            }
            if (!cell.caption().isEmpty()) {
                int[] t = l.captionOrigin(i, cell.caption());
                c.text(t[0], t[1], cell.caption(), l.captionScale(), Canvas.BLACK);
            }
        }
        return c.toImage();
    }

    /** {@link #render} then {@link Png#write}. */
    public static void write(Path png, String title, List<Cell> cells, int columns, int scale) throws IOException {
        Png.write(render(title, cells, columns, scale), png);
    }

    /** Grid geometry; package-private so that tests can find a given pixel. */
    record Layout(int width, int height, int titleHeight, int columns, int scale, int slotW, int slotH,
                  int imageH, int captionScale) {

        int[] imageOrigin(int i, Cell cell) {
            int col = i % columns, row = i / columns;
            int x = PAD + col * (slotW + PAD) + (slotW - cell.width() * scale) / 2;
            int y = titleHeight + PAD + row * (slotH + PAD) + (imageH - cell.height() * scale) / 2;
            return new int[] {x, y};
        }

        int[] captionOrigin(int i, String caption) {
            int col = i % columns, row = i / columns;
            int x = PAD + col * (slotW + PAD) + (slotW - BitmapFont.width(caption, captionScale)) / 2;
            int y = titleHeight + PAD + row * (slotH + PAD) + imageH + 4;
            return new int[] {x, y};
        }
    }

    static Layout layout(String title, List<Cell> cells, int columns, int scale) {
        if (cells == null || cells.isEmpty()) throw new IllegalArgumentException("ImageGrid: no images to draw");
        if (columns < 1) throw new IllegalArgumentException("ImageGrid: columns must be >= 1, got " + columns);
        if (scale < 1) throw new IllegalArgumentException("ImageGrid: scale must be >= 1, got " + scale);
        int maxW = 0, maxH = 0;
        boolean captions = false;
        for (Cell c : cells) {
            maxW = Math.max(maxW, c.width());
            maxH = Math.max(maxH, c.height());
            captions |= !c.caption().isEmpty();
        }
        int captionScale = maxW * scale >= 48 ? 2 : 1;
        int captionW = 0;
        for (Cell c : cells) captionW = Math.max(captionW, BitmapFont.width(c.caption(), captionScale));
        int imageH = maxH * scale;
        int slotW = Math.max(maxW * scale, captionW);
        int slotH = imageH + (captions ? 4 + BitmapFont.height(captionScale) : 0);
        int titleHeight = title == null || title.isEmpty() ? 0 : TITLE_HEIGHT;
        int cols = Math.min(columns, cells.size());
        int rows = (cells.size() + columns - 1) / columns;
        int width = PAD + cols * (slotW + PAD);
        if (titleHeight > 0) width = Math.max(width, BitmapFont.width(title, TITLE_SCALE) + 2 * PAD);
        int height = titleHeight + PAD + rows * (slotH + PAD);
        return new Layout(width, height, titleHeight, columns, scale, slotW, slotH, imageH, captionScale);
    }

    private static void check(int length, int expected, int height, int width, String what) {
        if (height <= 0 || width <= 0) throw new IllegalArgumentException("ImageGrid." + what + ": size " + height + "x" + width);
        if (length != expected) {
            throw new IllegalArgumentException("ImageGrid." + what + ": " + height + "x" + width + " needs " + expected
                    + " values, got " + length);
        }
    }

    private static int greyLevel(float v, float lo, float hi) {
        if (Float.isNaN(v)) return NAN_COLOR;
        int g = level(v, lo, hi);
        return g << 16 | g << 8 | g;
    }

    private static int level(float v, float lo, float hi) {
        float t = (v - lo) / (hi - lo);
        return Math.round(Math.clamp(t, 0f, 1f) * 255f);
    }
}

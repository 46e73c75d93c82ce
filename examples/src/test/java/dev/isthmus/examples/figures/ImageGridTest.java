package dev.isthmus.examples.figures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.examples.figures.ImageGrid.Cell;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageGridTest {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    @TempDir
    Path dir;

    private static List<Cell> digits(int n) {
        List<Cell> cells = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            byte[] px = new byte[28 * 28];
            for (int i = 0; i < px.length; i++) px[i] = (byte) ((i * 7 + k * 31) & 0xFF);
            cells.add(ImageGrid.grey(px, 28, 28, k + "->" + (9 - k)));
        }
        return cells;
    }

    @Test
    void writesAPngOfTheExpectedSizeWithPixelsAndCaptionsInPlace() throws IOException {
        List<Cell> cells = digits(7);
        Path file = dir.resolve("misclassified.png");
        ImageGrid.write(file, "misclassified", cells, 4, 3);
        BufferedImage img = ImageIO.read(file.toFile());
        ImageGrid.Layout l = ImageGrid.layout("misclassified", cells, 4, 3);
        // 4 columns of 84 px (28 x 3) plus 6 px padding; 2 rows of 84 + caption (4 + 14) plus padding, title 34.
        assertEquals(6 + 4 * (84 + 6), img.getWidth());
        assertEquals(34 + 6 + 2 * (84 + 4 + 14 + 6), img.getHeight());
        assertEquals(l.width(), img.getWidth());

        // Nearest-neighbour upscaling: source pixel (row 5, col 9) of cell 6 fills a 3x3 block.
        int[] o = l.imageOrigin(6, cells.get(6));
        int expected = cells.get(6).rgb()[5 * 28 + 9];
        for (int dy = 0; dy < 3; dy++) {
            for (int dx = 0; dx < 3; dx++) {
                assertEquals(expected, img.getRGB(o[0] + 9 * 3 + dx, o[1] + 5 * 3 + dy) & 0xFFFFFF);
            }
        }

        // Caption "6->3": the '6' glyph's font pixel (col 0, row 2) is ink, at caption scale 2.
        assertTrue(BitmapFont.pixel('6', 0, 2));
        assertTrue(!BitmapFont.pixel('6', 0, 0));
        int[] t = l.captionOrigin(6, "6->3");
        assertEquals(2, l.captionScale());
        assertEquals(Canvas.BLACK, img.getRGB(t[0] + 0 * 2 + 1, t[1] + 2 * 2 + 1) & 0xFFFFFF);
        assertEquals(Canvas.WHITE, img.getRGB(t[0] + 0 * 2, t[1] + 0 * 2) & 0xFFFFFF);
        // '>' is the 3rd character: its column 4, row 3 is ink.
        assertTrue(BitmapFont.pixel('>', 4, 3));
        assertEquals(Canvas.BLACK, img.getRGB(t[0] + 2 * 12 + 4 * 2, t[1] + 3 * 2) & 0xFFFFFF);
    }

    @Test
    void featureMapsAreNormalisedEachToItsOwnRange() {
        float[] a = {-3, -1, 1, 3};
        float[] b = {100, 200, 300, 400};
        Cell ca = ImageGrid.normalized(a, 2, 2, "a"), cb = ImageGrid.normalized(b, 2, 2, "b");
        assertEquals(0x000000, ca.rgb()[0]);
        assertEquals(0xFFFFFF, ca.rgb()[3]);
        assertEquals(0x000000, cb.rgb()[0]);
        assertEquals(0xFFFFFF, cb.rgb()[3]);
        Cell flat = ImageGrid.normalized(new float[] {2, 2, 2, 2}, 2, 2, "");
        assertEquals(0x808080, flat.rgb()[0]);
        Cell nan = ImageGrid.normalized(new float[] {0, Float.NaN, 1, 1}, 2, 2, "");
        assertEquals(ImageGrid.NAN_COLOR, nan.rgb()[1]);
        ImageGrid.render(null, List.of(ca, cb, flat, nan), 2, 5);
    }

    @Test
    void rgbImagesArePlanarChw() {
        float[] chw = {1, 0, /* R */ 0, 0, /* G */ 0, 1 /* B */};
        Cell c = ImageGrid.rgb(chw, 1, 2, 0, 1, "rgb");
        assertEquals(0xFF0000, c.rgb()[0]);
        assertEquals(0x0000FF, c.rgb()[1]);
        BufferedImage img = ImageGrid.render("", List.of(c), 1, 4);
        int[] o = ImageGrid.layout("", List.of(c), 1, 4).imageOrigin(0, c);
        assertEquals(0x0000FF, img.getRGB(o[0] + 4, o[1]) & 0xFFFFFF);
    }

    @Test
    void badInputGivesClearErrors() {
        var e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.render("t", List.of(), 4, 2));
        assertTrue(e.getMessage().contains("no images"));
        e = assertThrows(IllegalArgumentException.class, () -> ImageGrid.grey(new float[5], 2, 2, 0, 1, ""));
        assertTrue(e.getMessage().contains("needs 4 values, got 5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.render("t", digits(1), 0, 2));
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.grey(new float[4], 2, 2, 1, 1, ""));
    }
}

package dev.isthmus.examples.figures;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PngTest {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    @TempDir
    Path dir;

    @Test
    void writesAtomicallyAndDeterministically() throws IOException {
        Canvas c = new Canvas(13, 9);
        c.text(1, 1, "Hi", 1, Canvas.BLACK);
        Path file = dir.resolve("sub/hi.png");
        Png.write(c.toImage(), file);
        byte[] first = Files.readAllBytes(file);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, java.util.Arrays.copyOf(first, 8));
        Png.write(c.toImage(), file); // replaces; same bytes
        assertArrayEquals(first, Files.readAllBytes(file));
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList());
        }
        BufferedImage back = ImageIO.read(file.toFile());
        // 'H' column 0 is ink from row 0 to 6.
        assertEquals(Canvas.BLACK, back.getRGB(1, 1) & 0xFFFFFF);
        assertEquals(Canvas.BLACK, back.getRGB(1, 7) & 0xFFFFFF);
        assertEquals(Canvas.WHITE, back.getRGB(0, 0) & 0xFFFFFF);
    }

    @Test
    void fontCoversPrintableAscii() {
        for (char ch = 33; ch <= 126; ch++) {
            boolean ink = false;
            for (int x = 0; x < 5; x++) for (int y = 0; y < 7; y++) ink |= BitmapFont.pixel(ch, x, y);
            assertTrue(ink, "glyph for '" + ch + "' is blank");
        }
        assertEquals(6 * 3 * 2 - 2, BitmapFont.width("abc", 2));
    }
}

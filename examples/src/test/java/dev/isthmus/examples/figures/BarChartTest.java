package dev.isthmus.examples.figures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.examples.figures.BarChart.Bar;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BarChartTest {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    @TempDir
    Path dir;

    private static final List<Bar> BARS = List.of(
            new Bar("conv1", 0.42), new Bar("pool1", 0.31), new Bar("conv2", -0.2), new Bar("fc", Double.NaN), new Bar("out", 1.0));

    @Test
    void verticalAndHorizontalWriteValidPngs() throws IOException {
        for (boolean horizontal : new boolean[] {false, true}) {
            Path file = dir.resolve("activations-" + horizontal + ".png");
            BarChart.write(file, "mean activation", BARS, horizontal, 640, 360);
            BufferedImage img = ImageIO.read(file.toFile());
            assertEquals(640, img.getWidth());
            assertEquals(360, img.getHeight());
            long bluePixels = 0;
            for (int y = 0; y < 360; y++) {
                for (int x = 0; x < 640; x++) {
                    if ((img.getRGB(x, y) & 0xFFFFFF) == Canvas.PALETTE[0]) bluePixels++;
                }
            }
            assertTrue(bluePixels > 1000, "bars drawn: " + bluePixels);
        }
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count());
        }
    }

    @Test
    void emptyIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> BarChart.render("t", List.of(), false, 400, 300));
        assertEquals("BarChart: no bars to draw", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BarChart.render("t", BARS, false, 40, 30));
    }
}

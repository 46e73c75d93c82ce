package dev.isthmus.examples.figures;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.examples.figures.LineChart.Panel;
import dev.isthmus.examples.figures.LineChart.Series;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineChartTest {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    @TempDir
    Path dir;

    private static List<Panel> curves() {
        double[] loss = {2.3, 0.9, 0.41, Double.NaN, 0.12, 0.08, 0.05, 0.04, 0.035, 0.03};
        double[] val = {11.0, 5.2, 3.1, 2.4, 2.0, 1.7, 1.5, 1.4, 1.3, 1.25};
        double[] test = {10.5, 5.0, 3.0, 2.5, Double.POSITIVE_INFINITY, 1.8, 1.6, 1.5, 1.35, 1.3};
        return List.of(
                new Panel("loss", true, Series.ofEpochs("train loss", loss)),
                new Panel("error %", false, Series.ofEpochs("validation error", val), Series.ofEpochs("test error", test)));
    }

    @Test
    void writesAValidPngOfTheExpectedSize() throws IOException {
        Path file = dir.resolve("curves.png");
        LineChart.write(file, "LeNet-5 on MNIST", "epoch", curves(), 800, 300);
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(800, img.getWidth());
        assertEquals(LineChart.TITLE_HEIGHT + 2 * 300 + LineChart.XLABEL_HEIGHT, img.getHeight());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList()); // no temp file left behind
        }
    }

    @Test
    void plottedPointsAreWhereTheAxesSay() {
        List<Panel> panels = curves();
        BufferedImage img = LineChart.render("t", "epoch", panels, 800, 300);
        List<LineChart.Plot> plots = LineChart.layout("t", panels, 800, 300);
        // x: epochs 1..10 on a nice axis; the first point sits at the plot's left edge.
        LineChart.Plot loss = plots.get(0);
        assertEquals(loss.left(), loss.px(loss.x().lo()));
        int x = loss.px(1), y = loss.py(2.3);
        assertEquals(Canvas.PALETTE[0], img.getRGB(x, y) & 0xFFFFFF, "train loss marker at epoch 1");
        // Log axis: 0.03..2.3 widened to decades 0.01..10.
        assertEquals(0.01, loss.y().lo(), 1e-15);
        assertEquals(10, loss.y().hi(), 1e-12);
        LineChart.Plot err = plots.get(1);
        assertEquals(Canvas.PALETTE[1], img.getRGB(err.px(10), err.py(1.3)) & 0xFFFFFF, "test error marker at epoch 10");
        // The axis frame is black at the plot's bottom-left corner.
        assertEquals(Canvas.BLACK, img.getRGB(err.left(), err.bottom()) & 0xFFFFFF);
    }

    @Test
    void nanPointsAreSkippedNotJoined() {
        double[] y = {1, 2, Double.NaN, 4};
        List<Panel> panels = List.of(new Panel("y", false, Series.ofEpochs("s", y)));
        BufferedImage img = LineChart.render("", "", panels, 400, 300);
        LineChart.Plot p = LineChart.layout("", panels, 400, 300).getFirst();
        // The gap: halfway between epoch 2 and 4 at y=3 nothing of the series is drawn.
        int mx = p.px(3), my = p.py(3);
        assertTrue((img.getRGB(mx, my) & 0xFFFFFF) != Canvas.PALETTE[0], "line joined across NaN");
        assertEquals(Canvas.PALETTE[0], img.getRGB(p.px(4), p.py(4)) & 0xFFFFFF);
    }

    @Test
    void isDeterministic() {
        BufferedImage a = LineChart.render("t", "epoch", curves(), 640, 240);
        BufferedImage b = LineChart.render("t", "epoch", curves(), 640, 240);
        assertArrayEquals(a.getRGB(0, 0, 640, a.getHeight(), null, 0, 640), b.getRGB(0, 0, 640, b.getHeight(), null, 0, 640));
    }

    @Test
    void emptyOrUnplottableInputGivesAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Series("train loss", new double[0], new double[0]));
        assertEquals("series 'train loss' is empty: nothing to plot", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Series("s", new double[2], new double[3]));
        assertTrue(e.getMessage().contains("2 x values but 3 y values"));
        e = assertThrows(IllegalArgumentException.class, () -> new Panel("loss", false, List.of()));
        assertTrue(e.getMessage().contains("no series"));
        List<Panel> allNan = List.of(new Panel("loss", true, Series.ofEpochs("s", new double[] {Double.NaN, 0, -1})));
        e = assertThrows(IllegalArgumentException.class, () -> LineChart.render("", "", allNan, 400, 300));
        assertTrue(e.getMessage().contains("panel 'loss': no point to plot"), e.getMessage());
    }

    @Test
    void singlePointAndConstantSeriesStillGetAnAxis() {
        List<Panel> panels = List.of(new Panel("y", false, Series.ofEpochs("s", new double[] {5})));
        LineChart.Plot p = LineChart.layout("", panels, 400, 300).getFirst();
        assertTrue(p.y().lo() < 5 && p.y().hi() > 5 && p.x().lo() < 1 && p.x().hi() > 1);
        LineChart.render("", "", panels, 400, 300);
    }

    @Test
    void niceTicks() {
        Axis a = Axis.linear(0.03, 2.3, 5);
        assertEquals(List.of(0.0, 0.5, 1.0, 1.5, 2.0, 2.5), a.ticks());
        assertEquals("0.5", a.label(0.5));
        assertEquals(List.of("1e-5", "1e-4", "0.001", "0.01", "0.1"),
                Axis.log(2e-5, 900).ticks().stream().map(Axis.log(2e-5, 900)::label).toList().subList(0, 5));
    }
}

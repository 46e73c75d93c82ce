package dev.isthmus.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** ImageFolder on small generated folders; RgbPca's decomposition; Shapes' output. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ImageFolderTest {

    @TempDir
    Path tmp;

    /** Loads while capturing stderr; returns the folder and the captured text. */
    private record Loaded(ImageFolder folder, String stderr) {}

    private static Loaded loadCapturing(Path root, int size) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return new Loaded(ImageFolder.load(root, size, 2), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void loadsPngAndJpegSkippingCorruptAndTextFilesWithOneWarning() throws IOException {
        Path root = tmp.resolve("shapes");
        Shapes.write(root, 3, 12, 48, 1);
        Files.writeString(root.resolve("circle/notes.txt"), "not an image");
        byte[] png = Files.readAllBytes(root.resolve("square/0000.png"));
        Files.write(root.resolve("square/broken.png"), Arrays.copyOf(png, png.length / 3));
        Files.writeString(root.resolve(".hidden"), "ignored");
        Loaded l = loadCapturing(root, 40);
        try (ImageFolder f = l.folder()) {
            assertEquals(List.of("circle", "square", "triangle"), f.classes());
            assertEquals(36, f.count());
            assertEquals(2, f.skipped());
            assertEquals(1, l.stderr().lines().count(), l.stderr());
            assertTrue(l.stderr().contains("skipped 2 of 38"), l.stderr());
            int[] perClass = new int[3];
            for (int i = 0; i < f.count(); i++) {
                perClass[f.label(i)]++;
                assertEquals(40, Math.min(f.height(i), f.width(i)));
                assertEquals(f.classes().get(f.label(i)), f.file(i).getParent().getFileName().toString());
            }
            assertArrayEquals(new int[] {12, 12, 12}, perClass);
            assertTrue(Stream.of(f.indices()).count() > 0);
        }
    }

    @Test
    void classIndicesFollowSortedNamesAndGreyAndAlphaBecomeRgb() throws IOException {
        Path root = tmp.resolve("sorted");
        BufferedImage grey = new BufferedImage(30, 20, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(3, 4, 0, 77);
        BufferedImage argb = new BufferedImage(20, 30, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(5, 6, 0x80_11_22_33);
        for (String c : List.of("zebra", "apple", "Mango")) {
            Files.createDirectories(root.resolve(c));
        }
        ImageIO.write(grey, "png", root.resolve("zebra/a.png").toFile());
        ImageIO.write(argb, "png", root.resolve("apple/b.png").toFile());
        ImageIO.write(grey, "png", root.resolve("Mango/c.png").toFile());
        try (ImageFolder f = ImageFolder.load(root, 20, 1)) {
            assertEquals(List.of("Mango", "apple", "zebra"), f.classes());
            // Same size as stored: no resampling, so pixels are exact.
            int z = indexOf(f, "zebra"), a = indexOf(f, "apple");
            assertEquals(2, f.label(z));
            assertEquals(1, f.label(a));
            MemorySegment p = f.pixels(z); // (20, 30, 3)
            assertEquals(20 * 30 * 3, p.byteSize());
            for (int c = 0; c < 3; c++) assertEquals(77, p.get(ValueLayout.JAVA_BYTE, (4 * 30 + 3) * 3 + c) & 0xff);
            MemorySegment q = f.pixels(a); // (30, 20, 3), alpha dropped
            assertEquals(0x11, q.get(ValueLayout.JAVA_BYTE, (6 * 20 + 5) * 3) & 0xff);
            assertEquals(0x22, q.get(ValueLayout.JAVA_BYTE, (6 * 20 + 5) * 3 + 1) & 0xff);
            assertEquals(0x33, q.get(ValueLayout.JAVA_BYTE, (6 * 20 + 5) * 3 + 2) & 0xff);
        }
    }

    private static int indexOf(ImageFolder f, String cls) {
        for (int i = 0; i < f.count(); i++) {
            if (f.classes().get(f.label(i)).equals(cls)) return i;
        }
        throw new AssertionError(cls);
    }

    @Test
    void emptyClassFoldersAndFoldersWithoutImagesAreErrorsNamingThem() throws IOException {
        Path root = tmp.resolve("empty");
        Shapes.write(root, 2, 2, 16, 3);
        Files.createDirectories(root.resolve("zz-empty"));
        var e = assertThrows(IllegalArgumentException.class, () -> ImageFolder.load(root, 16, 1));
        assertTrue(e.getMessage().contains("zz-empty") && e.getMessage().contains("empty"), e.getMessage());
        Files.writeString(root.resolve("zz-empty/readme.txt"), "text");
        e = assertThrows(IllegalArgumentException.class, () -> loadCapturing(root, 16));
        assertTrue(e.getMessage().contains("zz-empty") && e.getMessage().contains("no readable image"), e.getMessage());
        Path none = Files.createDirectories(tmp.resolve("none"));
        e = assertThrows(IllegalArgumentException.class, () -> ImageFolder.load(none, 16, 1));
        assertTrue(e.getMessage().contains(none.toString()), e.getMessage());
    }

    /** A folder of one 24x32 image with distinct pixel values, stored without resizing. */
    private ImageFolder gradientFolder() throws IOException {
        Path root = tmp.resolve("gradient");
        Files.createDirectories(root.resolve("only"));
        BufferedImage img = new BufferedImage(32, 24, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 24; y++) {
            for (int x = 0; x < 32; x++) {
                img.setRGB(x, y, (x * 7) << 16 | (y * 9) << 8 | (x + y));
            }
        }
        ImageIO.write(img, "png", root.resolve("only/g.png").toFile());
        return ImageFolder.load(root, 24, 1);
    }

    @Test
    void cropsHaveTheirSizeFlipsMirrorAndTheCentreCropIsCentred() throws IOException {
        try (ImageFolder f = gradientFolder()) {
            assertEquals(24, f.height(0));
            assertEquals(32, f.width(0));
            int c = 17;
            float[] plain = f.crop(0, 3, 5, c, false);
            float[] flipped = f.crop(0, 3, 5, c, true);
            assertEquals(3 * c * c, plain.length);
            for (int ch = 0; ch < 3; ch++) {
                for (int y = 0; y < c; y++) {
                    for (int x = 0; x < c; x++) {
                        int k = (ch * c + y) * c + x;
                        assertEquals(plain[(ch * c + y) * c + (c - 1 - x)], flipped[k]);
                    }
                }
            }
            // Values: R = 7x, G = 9y, B = x + y at the crop's pixel.
            assertEquals(7 * (5 + 2), plain[(0 * c + 1) * c + 2]);
            assertEquals(9 * (3 + 1), plain[(1 * c + 1) * c + 2]);

            float[] mean = {10, 20, 30};
            var t = ImageFolder.Transform.center(c, mean);
            float[] centre = new float[3 * c * c];
            f.render(0, t, new Random(1), MemorySegment.ofArray(centre));
            float[] expected = f.crop(0, (24 - c) / 2, (32 - c) / 2, c, false);
            for (int k = 0; k < expected.length; k++) expected[k] -= mean[k / (c * c)];
            assertArrayEquals(expected, centre);

            // Ten crops: view 4 is the centre, view 9 its mirror, view 1 the top-right corner.
            float[] ten = new float[10 * 3 * c * c];
            f.render(0, ImageFolder.Transform.tenCrop(c, new float[3]), new Random(1), MemorySegment.ofArray(ten));
            int v = 3 * c * c;
            assertArrayEquals(f.crop(0, 3, 7, c, false), Arrays.copyOfRange(ten, 4 * v, 5 * v));
            assertArrayEquals(f.crop(0, 3, 7, c, true), Arrays.copyOfRange(ten, 9 * v, 10 * v));
            assertArrayEquals(f.crop(0, 0, 32 - c, c, false), Arrays.copyOfRange(ten, v, 2 * v));
        }
    }

    @Test
    void theLoaderBatchesRandomCropsReproduciblyAndTenCropViews() throws IOException {
        Path root = tmp.resolve("loader");
        Shapes.write(root, 4, 5, 40, 9);
        try (ImageFolder f = ImageFolder.load(root, 36, 2)) {
            var split = f.split(0.2, 4);
            assertEquals(16, split.train().length);
            assertEquals(4, split.validation().length);
            float[] mean = f.mean(split.train());
            RgbPca pca = f.pca(split.train(), 200, 1);
            var t = ImageFolder.Transform.train(32, mean, pca);
            float[][] runs = new float[2][];
            for (int run = 0; run < 2; run++) {
                try (BatchLoader loader = f.loader(split.train(), 8, 3, t, true, false)) {
                    assertEquals(2, loader.batchesPerEpoch());
                    for (BatchLoader.Batch b : loader.epoch(1)) {
                        assertEquals(8L * 3 * 32 * 32 * Float.BYTES, b.images().byteSize());
                        assertEquals(1, b.views());
                        if (b.number() == 0) runs[run] = b.images().toArray(ValueLayout.JAVA_FLOAT);
                    }
                }
            }
            assertArrayEquals(runs[0], runs[1]);
            try (BatchLoader loader = f.loader(split.validation(), 3, 3, ImageFolder.Transform.tenCrop(32, mean),
                    false, false)) {
                int seen = 0;
                for (BatchLoader.Batch b : loader.epoch(0)) {
                    assertEquals(10, b.views());
                    assertEquals((long) b.size() * 10 * 3 * 32 * 32 * Float.BYTES, b.images().byteSize());
                    seen += b.size();
                }
                assertEquals(4, seen);
            }
            assertThrows(IllegalArgumentException.class,
                    () -> f.loader(split.train(), 4, 1, ImageFolder.Transform.center(37, mean), false, false));
        }
    }

    @Test
    void thePcaDecompositionReconstructsTheCovariance() {
        double[][] cov = {{0.070, 0.060, 0.050}, {0.060, 0.068, 0.058}, {0.050, 0.058, 0.072}};
        RgbPca pca = RgbPca.of(cov);
        double[][] back = pca.reconstruct();
        for (int i = 0; i < 3; i++) assertArrayEquals(cov[i], back[i], 1e-12);
        assertTrue(pca.eigenvalues()[0] >= pca.eigenvalues()[1] && pca.eigenvalues()[1] >= pca.eigenvalues()[2]);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double dot = 0;
                for (int k = 0; k < 3; k++) dot += pca.eigenvectors()[i][k] * pca.eigenvectors()[j][k];
                assertEquals(i == j ? 1 : 0, dot, 1e-12, "orthonormal " + i + ", " + j);
            }
        }
        // A diagonal matrix is its own decomposition.
        RgbPca d = RgbPca.of(new double[][] {{1, 0, 0}, {0, 3, 0}, {0, 0, 2}});
        assertArrayEquals(new double[] {3, 2, 1}, d.eigenvalues(), 0);
        float[] shift = new float[3];
        pca.shift(new Random(1), 0.1, shift);
        float[] again = new float[3];
        pca.shift(new Random(1), 0.1, again);
        assertArrayEquals(shift, again);
    }

    @Test
    void theResizeKeepsAConstantImageAndShrinksByAveraging() {
        byte[] flat = new byte[10 * 14 * 3];
        Arrays.fill(flat, (byte) 200);
        byte[] out = ImageFolder.resize(flat, 10, 14, 7, 9);
        for (byte b : out) assertEquals(200, b & 0xff);
        // A 2:1 shrink of alternating columns 0/100 gives their mean away from the edges (filter truncated there).
        byte[] stripes = new byte[4 * 8 * 3];
        for (int i = 0; i < stripes.length; i++) stripes[i] = (byte) (((i / 3) % 2) * 100);
        byte[] half = ImageFolder.resize(stripes, 4, 8, 2, 4); // (2, 4, 3)
        for (int y = 0; y < 2; y++) {
            for (int x = 1; x < 3; x++) {
                for (int c = 0; c < 3; c++) assertEquals(50, half[(y * 4 + x) * 3 + c] & 0xff, 1);
            }
        }
    }

    @Test
    void shapesIsDeterministicAndWritesClassesTimesPerClassFiles() throws IOException {
        Path a = tmp.resolve("a"), b = tmp.resolve("b"), c = tmp.resolve("c");
        Shapes.write(a, 11, 12, 32, 5);
        Shapes.write(b, 11, 12, 32, 5);
        Shapes.write(c, 11, 12, 32, 6);
        List<Path> files;
        try (Stream<Path> s = Files.walk(a)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        assertEquals(11 * 12, files.size());
        assertEquals(11, files.stream().filter(p -> p.toString().endsWith(".jpg")).count());
        assertTrue(Files.exists(a.resolve("circle/0000.png")));
        assertTrue(Files.exists(a.resolve("circle/0009.jpg")));
        boolean anyDifferent = false;
        for (Path p : files) {
            Path rel = a.relativize(p);
            assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(b.resolve(rel)), rel.toString());
            anyDifferent |= !Arrays.equals(Files.readAllBytes(p), Files.readAllBytes(c.resolve(rel)));
        }
        assertTrue(anyDifferent, "another seed gives other images");
        var e = assertThrows(IllegalArgumentException.class, () -> Shapes.write(tmp.resolve("d"), 99, 1, 32, 1));
        assertTrue(e.getMessage().contains("99"));
        assertFalse(Files.exists(tmp.resolve("d")));
    }
}

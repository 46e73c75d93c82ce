package dev.isthmus.examples;

import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.Window;
import dev.isthmus.examples.ConvolveCommand.Kernel;
import dev.isthmus.examples.ConvolveCommand.Picture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lecture's kernels through the engine's convolution, on inputs small enough to compute by hand. */
class ConvolveCommandTest {
    /** Every CPU backend: each must give the hand-computed answers. */
    static final List<BackendKind> KINDS = List.of(BackendKind.DNNL, BackendKind.SIMD, BackendKind.REFERENCE);

    static Kernel lecture(String name) {
        return ConvolveCommand.LECTURE.stream().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
    }

    static Picture picture(int h, int w, java.util.function.IntBinaryOperator f) {
        float[] px = new float[h * w];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) px[y * w + x] = f.applyAsInt(y, x);
        return new Picture("test", px, h, w);
    }

    static float[] run(BackendKind kind, Picture p, Kernel k, boolean same) {
        try (Backend backend = Backends.create(kind)) {
            return ConvolveCommand.engine(backend, p, k, ConvolveCommand.window(k, same));
        }
    }

    static void assertMap(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > tolerance) {
                throw new AssertionError(what + ": first difference at " + i + ": expected " + Arrays.toString(expected)
                        + " got " + Arrays.toString(actual));
            }
        }
    }

    static float[] flipped(Kernel k) {
        float[] f = k.flat(), out = new float[f.length];
        for (int i = 0; i < f.length; i++) out[i] = f[f.length - 1 - i];
        return out;
    }

    @Test void aSinglePointGivesTheFlippedKernelBecauseTheEngineCrossCorrelates() {
        // out(y, x) = sum_ij K(i, j) in(y + i - top, x + j - left) with one 1 at (c, c): out = K turned by 180 degrees.
        for (BackendKind kind : KINDS) {
            for (Kernel k : ConvolveCommand.LECTURE) {
                int n = k.rows(); // odd kernels: an n x n input with the point in the middle; 'same' keeps n x n
                if (n % 2 == 1) {
                    Picture delta = picture(n, n, (y, x) -> y == n / 2 && x == n / 2 ? 1 : 0);
                    assertMap(flipped(k), run(kind, delta, k, true), 0, kind + " " + k.name());
                    assertMap(new float[] {k.weights()[n / 2][n / 2]}, run(kind, delta, k, false), 0, kind + " " + k.name() + " valid");
                }
            }
            // The 4x4 K3 on a 5x5 input with the point at (2, 2): padding 1 before, 2 after, so flip(K3) = -K3
            // fills the top-left 4x4 and the last row and column stay 0.
            Kernel k3 = lecture("diagonal-k3");
            Picture delta = picture(5, 5, (y, x) -> y == 2 && x == 2 ? 1 : 0);
            float[] expected = {
                    0, 0, -1, 0, 0,
                    0, -2, 0, 1, 0,
                    -1, 0, 2, 0, 0,
                    0, 1, 0, 0, 0,
                    0, 0, 0, 0, 0};
            for (int i = 0; i < expected.length; i++) expected[i] = -expected[i] + 0f; // -K3, and no -0.0
            assertMap(expected, run(kind, delta, k3, true), 0, kind + " K3 same");
            // valid, 2x2: out(y, x) = K3(2 - y, 2 - x)
            assertMap(new float[] {2, 0, 0, -2}, run(kind, delta, k3, false), 0, kind + " K3 valid");
        }
    }

    @Test void sobelMeasuresTheSlopeOfARamp() {
        Picture rampX = picture(4, 5, (y, x) -> x), rampY = picture(4, 5, (y, x) -> y);
        for (BackendKind kind : KINDS) {
            // K1 = [-1 0 1; -2 0 2; -1 0 1]: (x + 1 - (x - 1)) * (1 + 2 + 1) = 8 on in = x; 0 on in = y.
            assertMap(filled(6, 8), run(kind, rampX, lecture("sobel-k1"), false), 0, kind + " K1 on x");
            assertMap(filled(6, 0), run(kind, rampY, lecture("sobel-k1"), false), 0, kind + " K1 on y");
            assertMap(filled(6, 8), run(kind, rampY, lecture("sobel-k2"), false), 0, kind + " K2 on y");
            assertMap(filled(6, 0), run(kind, rampX, lecture("sobel-k2"), false), 0, kind + " K2 on x");
            // Same padding: the zeros outside make the left column see only the right neighbour: (1 - 0) * 3 ... by hand:
            // row 1, x = 0: K1 over columns -1, 0, 1 = (0*-1) + (1)*(1 + 2 + 1) = 4; x = 4: -(3)*4 + 0 = -12.
            float[] same = run(kind, rampX, lecture("sobel-k1"), true);
            assertEquals(4f, same[1 * 5], kind + " K1 same left edge");
            assertEquals(-12f, same[1 * 5 + 4], kind + " K1 same right edge");
            assertEquals(8f, same[1 * 5 + 2], kind + " K1 same inside");
        }
    }

    @Test void edgeKernelIsZeroOnFlatGroundAndCountsMissingNeighboursAtTheBorder() {
        Picture ones = picture(5, 5, (y, x) -> 1);
        for (BackendKind kind : KINDS) {
            assertMap(new float[] {0}, run(kind, ones, lecture("edge"), false), 0, kind + " edge valid");
            // 8 minus 2 per neighbour inside the picture: corners 4, border 2, inside 0.
            assertMap(new float[] {
                    4, 2, 2, 2, 4,
                    2, 0, 0, 0, 2,
                    2, 0, 0, 0, 2,
                    2, 0, 0, 0, 2,
                    4, 2, 2, 2, 4}, run(kind, ones, lecture("edge"), true), 0, kind + " edge same");
        }
    }

    @Test void boxBlurAveragesWhatLiesInsideThePicture() {
        Picture ones = picture(5, 5, (y, x) -> 1);
        for (BackendKind kind : KINDS) {
            assertMap(new float[] {1}, run(kind, ones, lecture("box"), false), 1e-6, kind + " box valid");
            // 0.04 times the number of the 25 window pixels inside: 9 at a corner, 12, 15 along the border, 25 in the middle.
            float[] e = new float[25];
            int[] inside = {3, 4, 5, 4, 3};
            for (int y = 0; y < 5; y++) for (int x = 0; x < 5; x++) e[y * 5 + x] = 0.04f * inside[y] * inside[x];
            assertMap(e, run(kind, ones, lecture("box"), true), 1e-6, kind + " box same");
        }
    }

    @Test void validShrinksBy_K_minus_1_andSameKeepsTheSizeWithUnevenPaddingForEvenKernels() {
        for (int k : new int[] {1, 3, 4, 5}) {
            Kernel kernel = new Kernel("k" + k, "", new float[k][k]);
            Window valid = ConvolveCommand.window(kernel, false), same = ConvolveCommand.window(kernel, true);
            assertEquals(7 - k + 1, valid.outHeight(7));
            assertEquals(9 - k + 1, valid.outWidth(9));
            assertEquals(7, same.outHeight(7));
            assertEquals(9, same.outWidth(9));
            assertEquals((k - 1) / 2, same.padTop());
            assertEquals(k - 1 - (k - 1) / 2, same.padBottom());
            Picture p = picture(7, 9, (y, x) -> y * 9 + x);
            try (Backend backend = Backends.create(BackendKind.DNNL)) {
                assertEquals((7 - k + 1) * (9 - k + 1), ConvolveCommand.engine(backend, p, kernel, valid).length);
                assertEquals(7 * 9, ConvolveCommand.engine(backend, p, kernel, same).length);
            }
        }
        Window k3 = ConvolveCommand.window(lecture("diagonal-k3"), true);
        assertEquals(List.of(1, 1, 2, 2), List.of(k3.padTop(), k3.padLeft(), k3.padBottom(), k3.padRight()));
    }

    @Test void lectureKernelsFlipAsTheSummarySays() {
        assertEquals("flip(K) = K", lecture("edge").flip());
        assertEquals("flip(K) = K", lecture("box").flip());
        assertEquals("flip(K) = -K", lecture("sobel-k1").flip());
        assertEquals("flip(K) = -K", lecture("sobel-k2").flip());
        assertEquals("flip(K) = -K", lecture("diagonal-k3").flip());
    }

    @Test void kernelFileWithRaggedRowsNamesTheLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ragged.txt");
        Files.writeString(file, "# my kernel\n\n1 2 3\n4 5 6\n7 8\n");
        var e = assertThrows(Args.UsageError.class, () -> ConvolveCommand.readKernel(file));
        assertEquals("--kernel " + file + ": line 5 has 2 values but line 3 has 3: every row of a kernel needs the same "
                + "number of values", e.getMessage());
        Files.writeString(file, "1 2\n3 x\n");
        e = assertThrows(Args.UsageError.class, () -> ConvolveCommand.readKernel(file));
        assertEquals("--kernel " + file + ": line 2: 'x' is not a finite number", e.getMessage());
        Files.writeString(file, "  1 -2\t0.5  # comment\n\n-1  2  0\n");
        Kernel k = ConvolveCommand.readKernel(file);
        assertEquals("2x3", k.size());
        assertEquals(List.of(1f, -2f, 0.5f, -1f, 2f, 0f), asList(k.flat()));
    }

    @Test void convolveWritesOnePicturePerKernelAContactSheetAndTheDifferences(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("tiny.png");
        BufferedImage img = new BufferedImage(13, 11, BufferedImage.TYPE_INT_RGB);
        for (int y = 3; y < 8; y++) for (int x = 2; x < 9; x++) img.setRGB(x, y, 0xFFFFFF);
        ImageIO.write(img, "png", png.toFile());
        Path out = dir.resolve("out");
        MainTest.Result r = MainTest.run("convolve", "--image", png.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("edge.png", "box.png", "sobel-k1.png", "sobel-k2.png", "diagonal-k3.png", "contact.png", "summary.txt")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        assertTrue(r.out().contains("diagonal-k3  4x4   on tiny 11x13"), r.out());
        assertTrue(r.out().contains("valid 8x10"), r.out());
        Matcher m = Pattern.compile("max \\|engine - direct\\| (\\S+)").matcher(r.out());
        int lines = 0;
        while (m.find()) {
            lines++;
            assertTrue(Double.parseDouble(m.group(1)) < 1e-5, m.group());
        }
        assertEquals(5, lines, r.out());
        assertTrue(Files.readString(out.resolve("summary.txt")).contains("cross-correlation"));

        Path kernel = dir.resolve("wide.txt");
        Files.writeString(kernel, "1 0 -1\n");
        r = MainTest.run("convolve", "--image", png.toString(), "--kernel", kernel.toString(), "--padding", "valid",
                "--backend", "reference", "--out", out.resolve("custom").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*wide +1x3 +on tiny 11x13 +valid 11x11 .*"), r.out());
        assertTrue(Files.exists(out.resolve("custom/wide.png")));

        Files.writeString(kernel, "1 2\n3\n");
        r = MainTest.run("convolve", "--image", png.toString(), "--kernel", kernel.toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("isthmus convolve: --kernel " + kernel + ": line 2 has 1 value but line 1 has 2"), r.err());
    }

    private static List<Float> asList(float[] v) {
        Float[] boxed = new Float[v.length];
        for (int i = 0; i < v.length; i++) boxed[i] = v[i];
        return List.of(boxed);
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }
}

package dev.isthmus.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The distortions on synthetic glyphs of awkward sizes, background -0.1 as preprocessed MNIST. */
class DistortionsTest {

    private static final float BG = Mnist.BACKGROUND;
    private static final float INK = Mnist.FOREGROUND;

    /** A filled rectangle [x0, x1) x [y0, y1) of ink, graded so it has no symmetry in value. */
    private static float[] square(int h, int w, int x0, int y0, int x1, int y1) {
        float[] img = new float[h * w];
        Arrays.fill(img, BG);
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                img[y * w + x] = INK;
            }
        }
        return img;
    }

    /** The centroid (x, y) of the ink above background. */
    private static double[] centroid(float[] img, int h, int w) {
        double m = 0, mx = 0, my = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double v = img[y * w + x] - BG;
                m += v;
                mx += v * x;
                my += v * y;
            }
        }
        return new double[] {mx / m, my / m};
    }

    @Test
    void aTranslationMovesTheCentroidByItsAmount() {
        int h = 31, w = 33;
        float[] img = square(h, w, 5, 7, 12, 11);
        double[] before = centroid(img, h, w);
        double[][] shifts = {{1.3, -0.7}, {-2.0, 3.0}, {0.25, 0.5}, {-3.6, -2.2}};
        for (double[] s : shifts) {
            double[] after = centroid(Distortions.shift(img, h, w, s[0], s[1], BG), h, w);
            assertEquals(before[0] + s[0], after[0], 0.05, "x after shift " + Arrays.toString(s));
            assertEquals(before[1] + s[1], after[1], 0.05, "y after shift " + Arrays.toString(s));
            // The general affine path with translation only is the same map.
            assertArrayEquals(Distortions.shift(img, h, w, s[0], s[1], BG),
                    Distortions.affine(img, h, w, s[0], s[1], 0, 1, 0, BG));
        }
    }

    @Test
    void aQuarterTurnMapsAnAsymmetricGlyphExactly() {
        int n = 9;
        // An "L" with a dot: asymmetric under every rotation and mirror.
        float[] img = new float[n * n];
        Arrays.fill(img, BG);
        for (int y = 1; y < 7; y++) img[y * n + 2] = INK;
        for (int x = 2; x < 6; x++) img[6 * n + x] = INK;
        img[2 * n + 6] = 0.5f;
        float[] turned = Distortions.rotate(img, n, n, 90, BG);
        // Counter-clockwise as displayed (y down): in[r][c] lands at out[n-1-c][r].
        float[] expected = new float[n * n];
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < n; c++) {
                expected[(n - 1 - c) * n + r] = img[r * n + c];
            }
        }
        assertArrayEquals(expected, turned, 1e-6f);
        float[] back = Distortions.rotate(turned, n, n, -90, BG);
        assertArrayEquals(img, back, 1e-6f);
        float[] four = img;
        for (int i = 0; i < 4; i++) four = Distortions.rotate(four, n, n, 90, BG);
        assertArrayEquals(img, four, 1e-6f);
    }

    @Test
    void scalingAboutTheCentreKeepsTheCentroidAndGrowsTheInk() {
        int h = 32, w = 32;
        float[] img = square(h, w, 12, 12, 20, 20); // centred on (15.5, 15.5)
        float[] big = Distortions.scale(img, h, w, 1.5, BG);
        double[] c = centroid(big, h, w);
        assertEquals(15.5, c[0], 1e-3);
        assertEquals(15.5, c[1], 1e-3);
        double ink = 0, bigInk = 0;
        for (int i = 0; i < img.length; i++) {
            ink += img[i] - BG;
            bigInk += big[i] - BG;
        }
        assertEquals(1.5 * 1.5, bigInk / ink, 0.05);
    }

    @Test
    void identitySettingsLeaveTheImageBitwiseUnchanged() {
        int c = 2, h = 17, w = 15;
        float[] img = new float[c * h * w];
        Random r = new Random(3);
        for (int i = 0; i < img.length; i++) img[i] = r.nextFloat() * 2 - 1;
        MemorySegment seg = MemorySegment.ofArray(img.clone());
        new Distortions(Distortions.Settings.identity(), BG).augment(seg, c, h, w, new Random(1));
        assertArrayEquals(img, seg.toArray(ValueLayout.JAVA_FLOAT));
        // keep = 1 keeps everything, whatever the ranges.
        var keepAll = new Distortions.Settings(2, 10, 0.1, 0.1, 34, 4, 1);
        new Distortions(keepAll, BG).augment(seg, c, h, w, new Random(1));
        assertArrayEquals(img, seg.toArray(ValueLayout.JAVA_FLOAT));
        // The warp itself at an identity map reads every pixel at its own place.
        float[] plane = Arrays.copyOf(img, h * w);
        assertArrayEquals(plane, Distortions.affine(plane, h, w, 0, 0, 0, 1, 0, BG));
    }

    @Test
    void sameSeedSameOutputDifferentSeedDifferentOutput() {
        int h = 32, w = 32;
        float[] img = square(h, w, 9, 6, 21, 26);
        Distortions d = Distortions.mnist();
        d = new Distortions(new Distortions.Settings(2, 10, 0.1, 0.1, 34, 4, 0), BG); // never keep
        float[] a = d.apply(img, h, w, new Random(42));
        float[] b = d.apply(img, h, w, new Random(42));
        float[] c = d.apply(img, h, w, new Random(43));
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        assertFalse(Arrays.equals(a, img));
        // A second instance (fresh scratch) agrees as well.
        var other = new Distortions(d.settings(), BG);
        assertArrayEquals(a, other.apply(img, h, w, new Random(42)));
    }

    @Test
    void theElasticFieldWithAlphaZeroIsIdentityAndOtherwiseSmoothAndBounded() {
        int h = 32, w = 32;
        float[] img = square(h, w, 9, 6, 21, 26);
        assertArrayEquals(img, Distortions.elastic(img, h, w, 0, 4, BG, new Random(5)));
        float[] moved = Distortions.elastic(img, h, w, 34, 4, BG, new Random(5));
        assertFalse(Arrays.equals(img, moved));
        // Simard's alpha 34, sigma 4 move pixels by ~1.4 px: the centroid stays within a couple of pixels.
        double[] c0 = centroid(img, h, w), c1 = centroid(moved, h, w);
        assertTrue(Math.hypot(c0[0] - c1[0], c0[1] - c1[1]) < 2.5, "centroid moved too far");
        // Through the augmenter: elastic only, alpha 0 would be the identity; with alpha the image changes.
        var elasticOnly = new Distortions(new Distortions.Settings(0, 0, 0, 0, 34, 4, 0), BG);
        assertFalse(Arrays.equals(img, elasticOnly.apply(img, h, w, new Random(9))));
    }

    @Test
    void theBlurKeepsAConstantFieldAndTheKernelIsNormalised() {
        float[] k = Distortions.gaussianKernel(3.5);
        assertEquals(2 * 11 + 1, k.length);
        double sum = 0;
        for (float v : k) sum += v;
        assertEquals(1, sum, 1e-6);
        int h = 7, w = 13;
        float[] field = new float[h * w];
        Arrays.fill(field, 0.25f);
        Distortions.blur(field, new float[h * w], new float[w + 2 * 11 + h], h, w, k, 2f);
        for (float v : field) assertEquals(0.5f, v, 1e-6f);
    }

    @Test
    void theOutputStaysWithinBackgroundAndTheLargestInput() {
        int h = 32, w = 32;
        Random r = new Random(11);
        float[] img = new float[h * w];
        for (int i = 0; i < img.length; i++) img[i] = BG + r.nextFloat() * (INK - BG);
        float max = BG;
        for (float v : img) max = Math.max(max, v);
        Distortions d = new Distortions(new Distortions.Settings(3, 30, 0.3, 0.3, 60, 3, 0), BG);
        for (int s = 0; s < 50; s++) {
            float[] out = d.apply(img, h, w, new Random(s));
            for (float v : out) {
                assertTrue(v >= BG - 1e-6f && v <= max + 1e-6f, "seed " + s + ": " + v + " outside [" + BG + ", " + max + "]");
            }
        }
    }

    @Test
    void noiseFunctionsAreSeededAndRangeChecked() {
        float[] img = square(8, 8, 2, 2, 6, 6);
        float[] sp = Distortions.saltAndPepper(img, 0.5, BG, INK, new Random(1));
        assertArrayEquals(sp, Distortions.saltAndPepper(img, 0.5, BG, INK, new Random(1)));
        for (float v : sp) assertTrue(v == BG || v == INK);
        assertArrayEquals(img, Distortions.saltAndPepper(img, 0, BG, INK, new Random(1)));
        float[] g = Distortions.gaussianNoise(img, 0.1, new Random(2));
        assertArrayEquals(g, Distortions.gaussianNoise(img, 0.1, new Random(2)));
        assertFalse(Arrays.equals(img, g));
        assertThrows(IllegalArgumentException.class, () -> Distortions.saltAndPepper(img, 1.5, BG, INK, new Random(1)));
        assertThrows(IllegalArgumentException.class, () -> new Distortions.Settings(0, 0, 0, 0, 5, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Distortions.shift(img, 7, 8, 1, 1, BG));
    }

    @Test
    void describeNamesEverySetting() {
        var m = Distortions.mnist().describe();
        assertEquals(24.0, m.get("elastic_alpha"));
        assertEquals(8, m.size());
    }

    @Test
    void anAugmentingLoaderIsReproducible() {
        int n = 10, h = 32, w = 32;
        float[] images = new float[n * h * w];
        for (int i = 0; i < n; i++) {
            System.arraycopy(square(h, w, 4 + i, 6, 14 + i, 20), 0, images, i * h * w, h * w);
        }
        try (var data = ImageDataset.copyOf("glyphs", 1, h, w, images, new int[n])) {
            float[][] runs = new float[2][];
            for (int run = 0; run < 2; run++) {
                try (var loader = new BatchLoader(data, data.indices(), n, 7, false, false, Distortions.mnist())) {
                    for (var b : loader.epoch(0)) runs[run] = b.images().toArray(ValueLayout.JAVA_FLOAT);
                }
            }
            assertArrayEquals(runs[0], runs[1]);
            assertFalse(Arrays.equals(images, runs[0]));
        }
    }
}

package dev.isthmus.nn.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The distortion kernels: each Vector API kernel against its scalar twin
 * (bit for bit, at awkward sizes that hit the tails), the warp against the
 * double-precision bilinear sampler the loader used before (kept here as the
 * semantic reference: background outside the image, exact at integer
 * positions), and one timed comparison of a whole MNIST distortion, old
 * against new, printed.
 */
class DistortionKernelsTest {

    private static final int[][] SIZES = {{1, 1}, {7, 13}, {17, 33}, {32, 32}, {5, 47}};
    private static final float BG = -0.1f;

    @Test
    void theVectorBlurGivesTheScalarTwinsBits() {
        Random random = new Random(3);
        for (int[] hw : SIZES) {
            int h = hw[0], w = hw[1];
            for (double sigma : new double[] {0.8, 4}) {
                float[] k = Distortions.gaussianKernel(sigma);
                float[] field = randomField(random, h * w);
                float[] vector = field.clone(), scalar = field.clone();
                float[] row = new float[Math.max(h, w) + k.length];
                DistortionKernels.blurVector(vector, new float[h * w], row, h, w, k, 24f);
                DistortionKernels.blurScalar(scalar, new float[h * w], row, h, w, k, 24f);
                assertSameBits(scalar, vector, "blur " + h + "x" + w + " sigma " + sigma);
            }
        }
    }

    @Test
    void theVectorWarpGivesTheScalarTwinsBitsInsideAndFarOutside() {
        Random random = new Random(5);
        for (int[] hw : SIZES) {
            int h = hw[0], w = hw[1];
            for (int trial = 0; trial < 20; trial++) {
                float[] padded = padded(randomField(random, h * w), h, w);
                float[] map = randomMap(random, h, w, trial % 4 == 0 ? 3 : 0.3);
                float spread = trial % 5 == 0 ? 40 : 2; // some fields throw samples far outside the image
                float[] dx = scaled(randomField(random, h * w), spread), dy = scaled(randomField(random, h * w), spread);
                float[] vector = new float[h * w], scalar = new float[h * w];
                DistortionKernels.warpVector(vector, padded, h, w, map, dx, dy, new int[64]);
                DistortionKernels.warpScalar(scalar, padded, h, w, map, dx, dy);
                assertSameBits(scalar, vector, "warp " + h + "x" + w + " trial " + trial);
            }
        }
    }

    @Test
    void theWarpIsTheBilinearSamplerWithBackgroundOutside() {
        Random random = new Random(7);
        for (int[] hw : SIZES) {
            int h = hw[0], w = hw[1];
            for (int trial = 0; trial < 10; trial++) {
                float[] src = randomField(random, h * w);
                float[] map = randomMap(random, h, w, 0.5);
                float[] dx = scaled(randomField(random, h * w), 3), dy = scaled(randomField(random, h * w), 3);
                float[] got = new float[h * w];
                DistortionKernels.warp(got, padded(src, h, w), h, w, map, dx, dy, new int[64]);
                float[] expected = Legacy.warp(src, h, w, map, dx, dy, BG);
                for (int i = 0; i < got.length; i++) {
                    if (Math.abs(got[i] - expected[i]) > 1e-4f) {
                        fail("warp " + h + "x" + w + " trial " + trial + " pixel " + i + ": got " + got[i]
                                + ", the bilinear reference gives " + expected[i]);
                    }
                }
            }
        }
        // The identity map with no displacement copies the image exactly.
        int h = 9, w = 11;
        float[] src = randomField(random, h * w), out = new float[h * w];
        float[] identity = {1, 0, 0, 1, (w - 1) / 2f, (h - 1) / 2f, (w - 1) / 2f, (h - 1) / 2f};
        DistortionKernels.warp(out, padded(src, h, w), h, w, identity, new float[h * w], new float[h * w], new int[64]);
        assertSameBits(src, out, "identity warp");
    }

    /** Prints the per-image time of a whole MNIST distortion (affine + elastic), the loop before and after. */
    @Test
    void aDistortionIsFasterThanTheLoopItReplaced() {
        int h = 32, w = 32, n = 4000;
        Random random = new Random(11);
        float[] image = randomField(random, h * w);
        float[] kernel = Distortions.gaussianKernel(4);
        Distortions now = Distortions.mnist();
        var seg = java.lang.foreign.MemorySegment.ofArray(image.clone());
        double best = Double.MAX_VALUE, bestLegacy = Double.MAX_VALUE;
        float sink = 0;
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                random.setSeed(i);
                now.augment(seg, 1, h, w, random);
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e3 / n);
            t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                random.setSeed(i);
                sink += Legacy.distort(image, h, w, kernel, random)[i % (h * w)];
            }
            bestLegacy = Math.min(bestLegacy, (System.nanoTime() - t0) / 1e3 / n);
        }
        System.out.printf(Locale.ROOT, "MNIST distortion (32x32, affine + elastic sigma 4), best of 5 x %d images:"
                + " %.2f us/image now (%s), %.2f us/image with the loop it replaced; %.1fx (checksum %s)%n",
                n, best, dev.isthmus.engine.cpu.Simd.describe(), bestLegacy, bestLegacy / best, sink);
        assertTrue(best < bestLegacy, "the kernels took " + best + " us against " + bestLegacy + " us before");
    }

    // ---- helpers

    private static void assertSameBits(float[] expected, float[] got, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(got[i])) {
                fail(what + ": first difference at " + i + ": scalar " + expected[i] + ", vector " + got[i]
                        + " (" + Arrays.toString(Arrays.copyOfRange(expected, i, Math.min(expected.length, i + 4)))
                        + " vs " + Arrays.toString(Arrays.copyOfRange(got, i, Math.min(got.length, i + 4))) + ")");
            }
        }
        assertEquals(expected.length, got.length);
    }

    private static float[] randomField(Random random, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = 2 * random.nextFloat() - 1;
        return f;
    }

    private static float[] scaled(float[] f, float s) {
        for (int i = 0; i < f.length; i++) f[i] *= s;
        return f;
    }

    private static float[] padded(float[] src, int h, int w) {
        float[] p = new float[DistortionKernels.paddedLength(h, w)];
        DistortionKernels.padBorder(p, h, w, BG);
        int pw = DistortionKernels.paddedWidth(w);
        for (int y = 0; y < h; y++) System.arraycopy(src, y * w, p, (y + 1) * pw + 1, w);
        return p;
    }

    /** A random inverse map {a, b, c, d, cx + tx, cy + ty, cx, cy} with entries of the identity +- spread. */
    private static float[] randomMap(Random random, int h, int w, double spread) {
        float cx = (w - 1) / 2f, cy = (h - 1) / 2f;
        return new float[] {1 + (float) (spread * (2 * random.nextDouble() - 1)), (float) (spread * (2 * random.nextDouble() - 1)),
                (float) (spread * (2 * random.nextDouble() - 1)), 1 + (float) (spread * (2 * random.nextDouble() - 1)),
                cx + 3 * (2 * random.nextFloat() - 1), cy + 3 * (2 * random.nextFloat() - 1), cx, cy};
    }

    /** The loops Distortions ran before the kernels (double coordinates, a bounds test per tap), as the reference. */
    static final class Legacy {
        private Legacy() {}

        static float[] warp(float[] src, int height, int width, float[] map, float[] dx, float[] dy, float background) {
            float[] dst = new float[height * width];
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    double px = x - (double) map[4], py = y - (double) map[5];
                    double sx = map[0] * px + map[1] * py + map[6];
                    double sy = map[2] * px + map[3] * py + map[7];
                    int i = y * width + x;
                    dst[i] = sample(src, height, width, sx + dx[i], sy + dy[i], background);
                }
            }
            return dst;
        }

        static float sample(float[] src, int height, int width, double x, double y, float background) {
            double fx0 = Math.floor(x), fy0 = Math.floor(y);
            if (fx0 < -1 || fy0 < -1 || fx0 >= width || fy0 >= height) return background;
            int x0 = (int) fx0, y0 = (int) fy0;
            float fx = (float) (x - fx0), fy = (float) (y - fy0);
            float p00 = pixel(src, height, width, x0, y0, background);
            float p01 = pixel(src, height, width, x0 + 1, y0, background);
            float p10 = pixel(src, height, width, x0, y0 + 1, background);
            float p11 = pixel(src, height, width, x0 + 1, y0 + 1, background);
            float top = fx == 0 ? p00 : p00 + fx * (p01 - p00);
            float bottom = fx == 0 ? p10 : p10 + fx * (p11 - p10);
            return fy == 0 ? top : top + fy * (bottom - top);
        }

        private static float pixel(float[] src, int height, int width, int x, int y, float background) {
            return x < 0 || y < 0 || x >= width || y >= height ? background : src[y * width + x];
        }

        /** The old blur: horizontal then vertical, one tap at a time over the row. */
        static void blur(float[] field, float[] tmp, float[] row, int height, int width, float[] kernel, float gain) {
            int r = kernel.length / 2;
            for (int y = 0; y < height; y++) {
                int base = y * width;
                Arrays.fill(row, 0, r, field[base]);
                System.arraycopy(field, base, row, r, width);
                Arrays.fill(row, r + width, 2 * r + width, field[base + width - 1]);
                Arrays.fill(tmp, base, base + width, 0f);
                for (int k = 0; k < kernel.length; k++) {
                    float wk = kernel[k];
                    for (int x = 0; x < width; x++) tmp[base + x] += wk * row[x + k];
                }
            }
            Arrays.fill(field, 0, height * width, 0f);
            for (int y = 0; y < height; y++) {
                int base = y * width;
                for (int k = 0; k < kernel.length; k++) {
                    float wk = kernel[k] * gain;
                    int from = Math.clamp(y + k - r, 0, height - 1) * width;
                    for (int x = 0; x < width; x++) field[base + x] += wk * tmp[from + x];
                }
            }
        }

        /** One MNIST distortion the old way: the same draws and SplitMix field, a fresh output array. */
        static float[] distort(float[] image, int h, int w, float[] kernel, Random random) {
            var s = Distortions.Settings.mnist();
            if (random.nextDouble() < s.keep()) return image;
            double tx = (2 * random.nextDouble() - 1) * s.translation(), ty = (2 * random.nextDouble() - 1) * s.translation();
            double t = Math.toRadians((2 * random.nextDouble() - 1) * s.rotation());
            double factor = 1 + (2 * random.nextDouble() - 1) * s.scale(), shear = (2 * random.nextDouble() - 1) * s.shear();
            double cos = Math.cos(t), sin = Math.sin(t);
            double f00 = factor * cos, f01 = factor * (cos * shear + sin), f10 = -factor * sin, f11 = factor * (-sin * shear + cos);
            double det = f00 * f11 - f01 * f10;
            float cx = (w - 1) / 2f, cy = (h - 1) / 2f;
            float[] map = {(float) (f11 / det), (float) (-f01 / det), (float) (-f10 / det), (float) (f00 / det),
                    (float) (cx + tx), (float) (cy + ty), cx, cy};
            float[] dx = new float[h * w], dy = new float[h * w];
            long state = random.nextLong();
            for (int i = 0; i < h * w; i++) {
                state += 0x9E3779B97F4A7C15L;
                long z = state;
                z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
                z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
                z ^= z >>> 31;
                dx[i] = (int) (z >>> 40) * 0x1p-23f - 1f;
                dy[i] = (int) ((z >>> 8) & 0xFFFFFF) * 0x1p-23f - 1f;
            }
            float[] tmp = new float[h * w], row = new float[Math.max(h, w) + kernel.length];
            blur(dx, tmp, row, h, w, kernel, (float) s.alpha());
            blur(dy, tmp, row, h, w, kernel, (float) s.alpha());
            return warp(image, h, w, map, dx, dy, BG);
        }
    }
}

package dev.isthmus.nn.data;

import dev.isthmus.engine.cpu.Simd;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The two inner loops of {@link Distortions}: the separable Gaussian blur of
 * the elastic displacement field and the bilinear warp, each as a Vector API
 * kernel and its scalar twin (the specification and the test oracle). Both
 * twins perform the same float operations in the same order (FMA where the
 * vector kernel uses FMA), so they give the same bits; the dispatching entry
 * points take the vector kernels unless {@link Simd#VECTOR} is false
 * ({@code -Disthmus.simd.lanes=0}).
 *
 * <p>The warp reads a <em>padded</em> source: the (H, W) image at offset
 * (1, 1) of a (H + 3, W + 3) plane whose border is the background value (one
 * row and column before, two after). A source coordinate is clamped into the
 * padded plane, where any clamped position has a zero fraction and so reads
 * the background exactly: no per-pixel bounds test, every lane the same path.
 */
final class DistortionKernels {

    private DistortionKernels() {}

    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);
    private static final float[] IOTA = new float[S.length()]; // (L) 0, 1, ..., L-1

    static {
        for (int l = 0; l < IOTA.length; l++) IOTA[l] = l;
    }

    /** P, the row stride of the padded source of an image {@code width} wide. */
    static int paddedWidth(int width) {
        return width + 3;
    }

    /** The length of the padded source, (H + 3, W + 3). */
    static int paddedLength(int height, int width) {
        return (height + 3) * paddedWidth(width);
    }

    // ---- blur: field (H, W) in place, times gain; tmp (H, W), row (W + 2R)

    /**
     * Separable Gaussian blur of {@code field} (H, W) in place, edges
     * replicated, times {@code gain}: horizontal into tmp, then vertical back.
     * {@code row} holds one padded row, at least W + 2R floats.
     */
    static void blur(float[] field, float[] tmp, float[] row, int height, int width, float[] kernel, float gain) {
        if (Simd.VECTOR) blurVector(field, tmp, row, height, width, kernel, gain);
        else blurScalar(field, tmp, row, height, width, kernel, gain);
    }

    static void blurScalar(float[] field, float[] tmp, float[] row, int height, int width, float[] kernel, float gain) {
        int r = kernel.length / 2;
        for (int y = 0; y < height; y++) {
            padRow(field, y * width, width, row, r);
            for (int x = 0; x < width; x++) tmp[y * width + x] = horizontal(row, x, kernel);
        }
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) field[y * width + x] = vertical(tmp, y, x, height, width, kernel) * gain;
        }
    }

    static void blurVector(float[] field, float[] tmp, float[] row, int height, int width, float[] kernel, float gain) {
        int r = kernel.length / 2, bound = S.loopBound(width);
        for (int y = 0; y < height; y++) {
            int base = y * width;
            padRow(field, base, width, row, r);
            int x = 0;
            for (; x < bound; x += S.length()) {
                FloatVector acc = FloatVector.zero(S);
                for (int k = 0; k < kernel.length; k++) {
                    acc = FloatVector.fromArray(S, row, x + k).fma(FloatVector.broadcast(S, kernel[k]), acc);
                }
                acc.intoArray(tmp, base + x);
            }
            for (; x < width; x++) tmp[base + x] = horizontal(row, x, kernel);
        }
        for (int y = 0; y < height; y++) {
            int base = y * width;
            int x = 0;
            for (; x < bound; x += S.length()) {
                FloatVector acc = FloatVector.zero(S);
                for (int k = 0; k < kernel.length; k++) {
                    int from = Math.clamp(y + k - r, 0, height - 1) * width;
                    acc = FloatVector.fromArray(S, tmp, from + x).fma(FloatVector.broadcast(S, kernel[k]), acc);
                }
                acc.mul(gain).intoArray(field, base + x);
            }
            for (; x < width; x++) field[base + x] = vertical(tmp, y, x, height, width, kernel) * gain;
        }
    }

    /** Row {@code base} of field into row[r .. r + W), its end values replicated r times on both sides. */
    private static void padRow(float[] field, int base, int width, float[] row, int r) {
        Arrays.fill(row, 0, r, field[base]);
        System.arraycopy(field, base, row, r, width);
        Arrays.fill(row, r + width, 2 * r + width, field[base + width - 1]);
    }

    private static float horizontal(float[] row, int x, float[] kernel) {
        float acc = 0;
        for (int k = 0; k < kernel.length; k++) acc = Math.fma(row[x + k], kernel[k], acc);
        return acc;
    }

    private static float vertical(float[] tmp, int y, int x, int height, int width, float[] kernel) {
        int r = kernel.length / 2;
        float acc = 0;
        for (int k = 0; k < kernel.length; k++) {
            acc = Math.fma(tmp[Math.clamp(y + k - r, 0, height - 1) * width + x], kernel[k], acc);
        }
        return acc;
    }

    // ---- warp: dst (H, W) from the padded source (H + 3, W + 3)

    /**
     * dst(p) = bilinear(padded, map(p) + (dx(p), dy(p))), the background
     * outside the image. {@code map} is the inverse affine map as
     * {a, b, c, d, cx + tx, cy + ty, cx, cy}: source = [[a, b], [c, d]]
     * (p - centre - t) + centre. {@code idx} is scratch of at least L ints.
     */
    static void warp(float[] dst, float[] padded, int height, int width, float[] map, float[] dx, float[] dy,
            int[] idx) {
        if (Simd.VECTOR) warpVector(dst, padded, height, width, map, dx, dy, idx);
        else warpScalar(dst, padded, height, width, map, dx, dy);
    }

    static void warpScalar(float[] dst, float[] padded, int height, int width, float[] map, float[] dx, float[] dy) {
        for (int y = 0; y < height; y++) {
            float py = y - map[5];
            float rowX = Math.fma(map[1], py, map[6]), rowY = Math.fma(map[3], py, map[7]);
            for (int x = 0; x < width; x++) {
                int i = y * width + x;
                dst[i] = sample(padded, height, width, map, rowX, rowY, x, dx[i], dy[i]);
            }
        }
    }

    /** One output pixel: the scalar twin of a lane of {@link #warpVector}. */
    private static float sample(float[] padded, int height, int width, float[] map, float rowX, float rowY, int x,
            float dx, float dy) {
        int p = paddedWidth(width);
        float px = (float) x - map[4];
        float u = Math.clamp(Math.fma(map[0], px, rowX) + dx + 1f, 0f, width + 1f);  // padded coordinates
        float v = Math.clamp(Math.fma(map[2], px, rowY) + dy + 1f, 0f, height + 1f);
        int iu = (int) u, iv = (int) v;
        float fx = u - (float) iu, fy = v - (float) iv;
        int k = iv * p + iu;
        float p00 = padded[k], p01 = padded[k + 1], p10 = padded[k + p], p11 = padded[k + p + 1];
        float top = Math.fma(fx, p01 - p00, p00);
        float bottom = Math.fma(fx, p11 - p10, p10);
        return Math.fma(fy, bottom - top, top);
    }

    static void warpVector(float[] dst, float[] padded, int height, int width, float[] map, float[] dx, float[] dy,
            int[] idx) {
        int p = paddedWidth(width), bound = S.loopBound(width), lanes = S.length();
        FloatVector iota = FloatVector.fromArray(S, IOTA, 0);
        float uMax = width + 1f, vMax = height + 1f;
        FloatVector a = FloatVector.broadcast(S, map[0]), c = FloatVector.broadcast(S, map[2]);
        for (int y = 0; y < height; y++) {
            float py = y - map[5];
            float rowX = Math.fma(map[1], py, map[6]), rowY = Math.fma(map[3], py, map[7]);
            int x = 0;
            for (; x < bound; x += lanes) {
                int i = y * width + x;
                FloatVector px = iota.add((float) x).sub(map[4]);
                FloatVector u = px.fma(a, FloatVector.broadcast(S, rowX))
                        .add(FloatVector.fromArray(S, dx, i)).add(1f).max(0f).min(uMax);
                FloatVector v = px.fma(c, FloatVector.broadcast(S, rowY))
                        .add(FloatVector.fromArray(S, dy, i)).add(1f).max(0f).min(vMax);
                IntVector iu = (IntVector) u.convert(VectorOperators.F2I, 0);
                IntVector iv = (IntVector) v.convert(VectorOperators.F2I, 0);
                FloatVector fx = u.sub((FloatVector) iu.convert(VectorOperators.I2F, 0));
                FloatVector fy = v.sub((FloatVector) iv.convert(VectorOperators.I2F, 0));
                iv.mul(p).add(iu).intoArray(idx, 0);
                FloatVector p00 = FloatVector.fromArray(S, padded, 0, idx, 0);
                FloatVector p01 = FloatVector.fromArray(S, padded, 1, idx, 0);
                FloatVector p10 = FloatVector.fromArray(S, padded, p, idx, 0);
                FloatVector p11 = FloatVector.fromArray(S, padded, p + 1, idx, 0);
                FloatVector top = fx.fma(p01.sub(p00), p00);
                FloatVector bottom = fx.fma(p11.sub(p10), p10);
                fy.fma(bottom.sub(top), top).intoArray(dst, i);
            }
            for (; x < width; x++) {
                int i = y * width + x;
                dst[i] = sample(padded, height, width, map, rowX, rowY, x, dx[i], dy[i]);
            }
        }
    }

    /** Fills the border of a padded plane (H + 3, W + 3) with the background; the interior is left as it is. */
    static void padBorder(float[] padded, int height, int width, float background) {
        int p = paddedWidth(width);
        Arrays.fill(padded, 0, p, background);
        Arrays.fill(padded, (height + 1) * p, (height + 3) * p, background);
        for (int y = 1; y <= height; y++) {
            padded[y * p] = background;
            padded[y * p + width + 1] = background;
            padded[y * p + width + 2] = background;
        }
    }
}

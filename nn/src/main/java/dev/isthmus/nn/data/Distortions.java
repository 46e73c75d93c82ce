package dev.isthmus.nn.data;

import dev.isthmus.engine.cpu.Simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Random distortions of small single-channel images such as MNIST digits, an
 * {@link Augmenter} for a {@link BatchLoader}: a random affine map
 * (translation, rotation, scale, shear about the image centre) composed with
 * an elastic distortion as in Simard, Steinkraus, Platt, "Best practices for
 * convolutional neural networks applied to visual document analysis" (2003),
 * section 2: a displacement field drawn uniform in [-1, 1] per pixel and axis,
 * smoothed by a normalised Gaussian of standard deviation sigma and scaled by
 * alpha. Output pixel p reads the input at {@code A^-1 (p - centre) + centre + d(p)}
 * (A the random affine map, d the displacement field) with bilinear
 * interpolation; input pixels outside the image count as the background value,
 * so borders blend into background. Every channel gets the same map.
 *
 * <p>Also the plain functions the lecture demos use on (H, W) float images:
 * {@link #shift}, {@link #rotate}, {@link #scale}, {@link #elastic},
 * {@link #saltAndPepper}, {@link #gaussianNoise}; each returns a new array.
 *
 * <p>Random draws come from the given {@link Random} alone, in a fixed order,
 * so a seed gives one output. Scratch buffers are kept per thread (a
 * {@link ThreadLocal}, sized for the last image shape seen), so an instance
 * may be shared by a loader's threads; nothing is allocated per image once a
 * thread has seen the first image. The blur and the warp are Vector API
 * kernels with scalar twins ({@link DistortionKernels}).
 */
public final class Distortions implements Augmenter {

    /**
     * The ranges of the random distortion; each parameter is drawn uniformly
     * per image.
     *
     * @param translation pixels, each axis shifted by a value in [-translation, translation]
     * @param rotation    degrees, in [-rotation, rotation], counter-clockwise as displayed
     * @param scale       both axes scaled by one factor in [1 - scale, 1 + scale]
     * @param shear       horizontal shear factor (x += shear * y) in [-shear, shear]; 0.1 is about 5.7 degrees
     * @param alpha       elastic strength: the smoothed field is multiplied by alpha (Simard's alpha, in pixels)
     * @param sigma       the standard deviation of the Gaussian smoothing the field, pixels; above 0 when alpha is
     * @param keep        the probability of leaving an image as it is
     */
    public record Settings(double translation, double rotation, double scale, double shear, double alpha,
            double sigma, double keep) {

        public Settings {
            check("translation", translation, 0, 1e6);
            check("rotation", rotation, 0, 180);
            check("scale", scale, 0, 0.95);
            check("shear", shear, 0, 10);
            check("alpha", alpha, 0, 1e6);
            check("sigma", sigma, 0, 1e3);
            check("keep", keep, 0, 1);
            if (alpha > 0 && sigma <= 0) {
                throw new IllegalArgumentException("Distortions.Settings: sigma must be above 0 when alpha is ("
                        + alpha + "), got " + sigma);
            }
        }

        /**
         * Defaults for 32x32 MNIST (28x28 digits centred): translation 2 px,
         * rotation 10 degrees, scale 0.1, shear 0.1, elastic alpha 24 and
         * sigma 4 (displacements of about 1 px standard deviation, varying
         * smoothly over ~4 px: the alpha/sigma ratio of Ciresan et al. 2010,
         * 36/6, a little milder than Simard's 34/4 since the affine part comes
         * on top; digits stay readable), and one image in ten kept as it is.
         */
        public static Settings mnist() {
            return new Settings(2, 10, 0.1, 0.1, 24, 4, 0.1);
        }

        /** No distortion at all: every image is left bitwise unchanged. */
        public static Settings identity() {
            return new Settings(0, 0, 0, 0, 0, 0, 0);
        }

        /** These settings without the elastic part. */
        public Settings withoutElastic() {
            return new Settings(translation, rotation, scale, shear, 0, sigma, keep);
        }

        /** Whether these settings never change an image. */
        public boolean isIdentity() {
            return keep == 1 || (translation == 0 && rotation == 0 && scale == 0 && shear == 0 && alpha == 0);
        }

        private static void check(String name, double v, double min, double max) {
            if (!(v >= min && v <= max)) {
                throw new IllegalArgumentException("Distortions.Settings: " + name + " must be in [" + min + ", "
                        + max + "], got " + v);
            }
        }
    }

    /** The per-thread scratch buffers for one image shape. */
    private static final class Scratch {
        final int height, width;
        final float[] padded; // (H + 3, W + 3) one input channel inside a background border
        final float[] dx, dy; // (H, W) displacement field, pixels; zeros without elastic part
        final float[] tmp;    // (H, W) blur intermediate
        final float[] row;    // (W + 2R) a padded row for the horizontal blur
        final float[] out;    // (H, W)
        final int[] idx;      // (L) gather indices of one vector of output pixels
        final float[] map = new float[8]; // this image's inverse affine map

        Scratch(int height, int width, int radius, float background) {
            this.height = height;
            this.width = width;
            int n = height * width;
            padded = new float[DistortionKernels.paddedLength(height, width)];
            DistortionKernels.padBorder(padded, height, width, background);
            dx = new float[n];
            dy = new float[n];
            tmp = new float[n];
            out = new float[n];
            row = new float[Math.max(width, height) + 2 * radius];
            idx = new int[Simd.SPECIES.length()];
        }

        /** Copies one (H, W) plane of {@code image} at byte {@code offset} into the padded interior. */
        void load(MemorySegment image, long offset) {
            int p = DistortionKernels.paddedWidth(width);
            for (int y = 0; y < height; y++) {
                MemorySegment.copy(image, ValueLayout.JAVA_FLOAT, offset + (long) y * width * Float.BYTES, padded,
                        (y + 1) * p + 1, width);
            }
        }
    }

    private final Settings settings;
    private final float background;
    private final float[] kernel; // (2R + 1) normalised Gaussian, R = ceil(3 sigma); empty without elastic part
    private final ThreadLocal<Scratch> scratch = new ThreadLocal<>();

    /**
     * @param settings   the ranges of the distortion
     * @param background the value of empty pixels ({@link Mnist#BACKGROUND} for preprocessed MNIST)
     */
    public Distortions(Settings settings, float background) {
        this.settings = Objects.requireNonNull(settings, "settings");
        if (!Float.isFinite(background)) {
            throw new IllegalArgumentException("Distortions: background must be finite, got " + background);
        }
        this.background = background;
        this.kernel = settings.alpha() > 0 ? gaussianKernel(settings.sigma()) : new float[0];
    }

    /** Distortions with {@link Settings#mnist()} on the MNIST background -0.1. */
    public static Distortions mnist() {
        return new Distortions(Settings.mnist(), Mnist.BACKGROUND);
    }

    public Settings settings() {
        return settings;
    }

    public float background() {
        return background;
    }

    /** The settings by name, in a fixed order, for a metrics file. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("translation_px", settings.translation());
        m.put("rotation_deg", settings.rotation());
        m.put("scale", settings.scale());
        m.put("shear", settings.shear());
        m.put("elastic_alpha", settings.alpha());
        m.put("elastic_sigma", settings.sigma());
        m.put("keep_probability", settings.keep());
        m.put("background", (double) background);
        return m;
    }

    @Override
    public String toString() {
        return "Distortions" + describe();
    }

    /**
     * Distorts {@code image}, (C, H, W) float32, in place, every channel by
     * the same random map. Draws, in order: keep or not; translation x, y;
     * rotation; scale; shear; then the elastic field.
     */
    @Override
    public void augment(MemorySegment image, int channels, int height, int width, Random random) {
        long plane = (long) height * width;
        if (image.byteSize() != channels * plane * Float.BYTES) {
            throw new IllegalArgumentException("Distortions: image of " + image.byteSize() + " bytes is not (C, H, W) = ("
                    + channels + ", " + height + ", " + width + ") float32");
        }
        if (settings.isIdentity()) {
            return;
        }
        if (settings.keep() > 0 && random.nextDouble() < settings.keep()) {
            return;
        }
        Scratch s = scratch(height, width);
        randomMap(random, settings, height, width, s.map);
        if (settings.alpha() > 0) {
            elasticField(s, random.nextLong());
        }
        for (int c = 0; c < channels; c++) {
            long offset = c * plane * Float.BYTES;
            s.load(image, offset);
            DistortionKernels.warp(s.out, s.padded, height, width, s.map, s.dx, s.dy, s.idx);
            MemorySegment.copy(s.out, 0, image, ValueLayout.JAVA_FLOAT, offset, (int) plane);
        }
    }

    /**
     * Distorts {@code images} blank (C, H, W) images on the calling thread and
     * throws the results away: the JIT compiles the Vector API kernels, which
     * run a hundred times slower before, so a loader's first epoch need not
     * wait for that. Meant for a spare thread while the data set loads.
     */
    public void warmUp(int channels, int height, int width, int images) {
        MemorySegment image = MemorySegment.ofArray(new float[channels * height * width]);
        Random random = new Random(0);
        for (int i = 0; i < images; i++) {
            random.setSeed(i);
            augment(image, channels, height, width, random);
        }
    }

    /** Distorts a copy of one (H, W) image with this instance's settings. */
    public float[] apply(float[] image, int height, int width, Random random) {
        checkImage(image, height, width);
        MemorySegment seg = MemorySegment.ofArray(image.clone());
        augment(seg, 1, height, width, random);
        return seg.toArray(ValueLayout.JAVA_FLOAT);
    }

    private Scratch scratch(int height, int width) {
        Scratch s = scratch.get();
        if (s == null || s.height != height || s.width != width) {
            s = new Scratch(height, width, kernel.length / 2, background);
            scratch.set(s);
        }
        return s;
    }

    /** Draws the affine parameters and writes the inverse map into {@code map} (see {@link DistortionKernels#warp}). */
    private static void randomMap(Random random, Settings s, int height, int width, float[] map) {
        double tx = uniform(random, s.translation());
        double ty = uniform(random, s.translation());
        double degrees = uniform(random, s.rotation());
        double factor = 1 + uniform(random, s.scale());
        double shear = uniform(random, s.shear());
        inverse(tx, ty, degrees, factor, shear, height, width, map);
    }

    private static double uniform(Random random, double range) {
        return range == 0 ? 0 : (2 * random.nextDouble() - 1) * range;
    }

    /**
     * The inverse of the forward map p' = R(degrees) Sh(shear) S(factor) (p - centre) + centre + t,
     * with y pointing down and positive degrees counter-clockwise as displayed, written into
     * {@code map} as {a, b, c, d, cx + tx, cy + ty, cx, cy}:
     * source = [[a, b], [c, d]] (p - centre - t) + centre.
     */
    private static void inverse(double tx, double ty, double degrees, double factor, double shear, int height,
            int width, float[] map) {
        double t = Math.toRadians(degrees);
        double cos = Math.cos(t), sin = Math.sin(t);
        if (degrees % 90 == 0) { // exact quarter turns, so they map the pixel grid onto itself
            int q = (int) Math.floorMod((long) (degrees / 90), 4);
            cos = q == 0 ? 1 : q == 2 ? -1 : 0;
            sin = q == 1 ? 1 : q == 3 ? -1 : 0;
        }
        // R = [[cos, sin], [-sin, cos]] (counter-clockwise on screen), Sh = [[1, shear], [0, 1]], S = factor I.
        double f00 = factor * cos, f01 = factor * (cos * shear + sin);
        double f10 = -factor * sin, f11 = factor * (-sin * shear + cos);
        double det = f00 * f11 - f01 * f10;
        double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
        map[0] = (float) (f11 / det);
        map[1] = (float) (-f01 / det);
        map[2] = (float) (-f10 / det);
        map[3] = (float) (f00 / det);
        map[4] = (float) (cx + tx);
        map[5] = (float) (cy + ty);
        map[6] = (float) cx;
        map[7] = (float) cy;
    }

    /** Fills the scratch field with a fresh smoothed, scaled displacement field. */
    private void elasticField(Scratch s, long seed) {
        long state = seed;
        int n = s.height * s.width;
        for (int i = 0; i < n; i++) { // SplitMix64 inline: two uniform values in [-1, 1) per draw
            state += 0x9E3779B97F4A7C15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            s.dx[i] = (int) (z >>> 40) * 0x1p-23f - 1f;
            s.dy[i] = (int) ((z >>> 8) & 0xFFFFFF) * 0x1p-23f - 1f;
        }
        float alpha = (float) settings.alpha();
        DistortionKernels.blur(s.dx, s.tmp, s.row, s.height, s.width, kernel, alpha);
        DistortionKernels.blur(s.dy, s.tmp, s.row, s.height, s.width, kernel, alpha);
    }

    /**
     * Separable Gaussian blur of {@code field} (H, W) in place, edges
     * replicated, times {@code gain} ({@link DistortionKernels#blur}).
     */
    static void blur(float[] field, float[] tmp, float[] row, int height, int width, float[] kernel, float gain) {
        DistortionKernels.blur(field, tmp, row, height, width, kernel, gain);
    }

    /** A normalised Gaussian of standard deviation sigma over [-R, R], R = ceil(3 sigma). */
    static float[] gaussianKernel(double sigma) {
        int r = (int) Math.ceil(3 * sigma);
        float[] k = new float[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) {
            sum += Math.exp(-0.5 * i * i / (sigma * sigma));
        }
        for (int i = -r; i <= r; i++) {
            k[i + r] = (float) (Math.exp(-0.5 * i * i / (sigma * sigma)) / sum);
        }
        return k;
    }

    /**
     * dst(p) = src(inverse(p) + (dx(p), dy(p))), bilinear, background
     * outside, on a fresh scratch (the plain functions below); dx and dy may
     * be null (no elastic part).
     */
    private static float[] warpCopy(float[] src, int height, int width, float[] map, float[] dx, float[] dy,
            float background) {
        Scratch s = new Scratch(height, width, 0, background);
        s.load(MemorySegment.ofArray(src), 0);
        float[] out = new float[height * width];
        DistortionKernels.warp(out, s.padded, height, width, map, dx != null ? dx : s.dx, dy != null ? dy : s.dy,
                s.idx);
        return out;
    }

    // ---- the plain functions, (H, W) images, a new array each

    /** The image moved by dx pixels right and dy pixels down (fractions interpolate). */
    public static float[] shift(float[] image, int height, int width, double dx, double dy, float background) {
        return affine(image, height, width, dx, dy, 0, 1, 0, background);
    }

    /** The image turned by {@code degrees} counter-clockwise (as displayed) about its centre. */
    public static float[] rotate(float[] image, int height, int width, double degrees, float background) {
        return affine(image, height, width, 0, 0, degrees, 1, 0, background);
    }

    /** The image scaled by {@code factor} about its centre (above 1 enlarges). */
    public static float[] scale(float[] image, int height, int width, double factor, float background) {
        if (!(factor > 0)) {
            throw new IllegalArgumentException("Distortions.scale: factor must be above 0, got " + factor);
        }
        return affine(image, height, width, 0, 0, 0, factor, 0, background);
    }

    /**
     * The image under p' = R(degrees) Sh(shear) S(factor) (p - centre) + centre + (dx, dy),
     * about the centre ((W-1)/2, (H-1)/2), y down, degrees counter-clockwise as displayed.
     */
    public static float[] affine(float[] image, int height, int width, double dx, double dy, double degrees,
            double factor, double shear, float background) {
        checkImage(image, height, width);
        float[] map = new float[8];
        inverse(dx, dy, degrees, factor, shear, height, width, map);
        return warpCopy(image, height, width, map, null, null, background);
    }

    /** The image under one random elastic distortion (Simard 2003) of strength alpha and smoothness sigma. */
    public static float[] elastic(float[] image, int height, int width, double alpha, double sigma, float background,
            Random random) {
        Distortions d = new Distortions(new Settings(0, 0, 0, 0, alpha, sigma, 0), background);
        if (alpha == 0) {
            return image.clone();
        }
        checkImage(image, height, width);
        Scratch s = new Scratch(height, width, d.kernel.length / 2, background);
        d.elasticField(s, random.nextLong());
        float[] map = new float[8];
        inverse(0, 0, 0, 1, 0, height, width, map);
        return warpCopy(image, height, width, map, s.dx, s.dy, background);
    }

    /** The image with a random {@code fraction} of its pixels set to low or high, each with probability 1/2. */
    public static float[] saltAndPepper(float[] image, double fraction, float low, float high, Random random) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("Distortions.saltAndPepper: fraction must be in [0, 1], got " + fraction);
        }
        float[] out = image.clone();
        for (int i = 0; i < out.length; i++) {
            if (random.nextDouble() < fraction) {
                out[i] = random.nextBoolean() ? high : low;
            }
        }
        return out;
    }

    /** The image plus independent Gaussian noise of standard deviation {@code std} on every pixel. */
    public static float[] gaussianNoise(float[] image, double std, Random random) {
        if (!(std >= 0)) {
            throw new IllegalArgumentException("Distortions.gaussianNoise: std must be >= 0, got " + std);
        }
        float[] out = image.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += (float) (std * random.nextGaussian());
        }
        return out;
    }

    private static void checkImage(float[] image, int height, int width) {
        if (height < 1 || width < 1 || image.length != (long) height * width) {
            throw new IllegalArgumentException("Distortions: an image of (H, W) = (" + height + ", " + width
                    + ") needs " + (long) height * width + " floats, got " + image.length);
        }
    }
}

package dev.isthmus.nn.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * An image classification dataset from a folder with one subfolder per class
 * ({@code root/<class>/**}, as torchvision's {@code ImageFolder}); class
 * index i is the i-th subfolder name in sorted order. Files whose names start
 * with a dot and files directly in the root are ignored.
 *
 * <p>Every JPEG or PNG (anything {@link ImageIO} decodes) is read as RGB
 * (alpha dropped, grey expanded to three channels), resized so that its
 * shorter side is S (256 by default; a triangle filter as wide as the scale
 * factor, which averages areas when shrinking and is bilinear when growing),
 * and kept as bytes (H, W, 3) in off-heap memory owned by this object.
 * {@link #load} decodes every file at once on a small pool of threads;
 * {@link #open} reads only the headers and decodes each image when first
 * needed, on a loader's threads, keeping the decoded, resized pixels while
 * they fit in a memory limit. Files that do not read are skipped, with one
 * warning line on stderr counting them; a class folder that is empty or keeps
 * no image is an error naming it.
 *
 * <p>Samples become float (3, crop, crop) images in a {@link BatchLoader}
 * ({@link #loader}) through a {@link Transform}: a random crop with a random
 * horizontal flip and the RGB-intensity shift ({@link RgbPca}) for training,
 * a centre crop or ten crops (corners, centre, and their mirrors) for
 * evaluation, the per-channel mean ({@link #mean}) subtracted.
 */
public final class ImageFolder implements AutoCloseable {

    /** The default S, the shorter side after resizing. */
    public static final int DEFAULT_SIZE = 256;

    /** How a sample is cropped. */
    public enum Crop {
        /** One random crop, mirrored with probability 1/2 (training). */
        RANDOM,
        /** The centred crop (evaluation). */
        CENTER,
        /** Ten views: the four corners and the centre, then the same five mirrored (evaluation). */
        TEN
    }

    /**
     * How a stored image becomes a float (V, 3, crop, crop) sample:
     * {@code (pixel - mean[c] + 255 * shift[c]) * scale}, pixel in [0, 255],
     * shift drawn from {@code pca} with alpha ~ N(0, pcaStd) per sample and
     * epoch (zero when pca is null or pcaStd is 0).
     *
     * @param crop   the side of the square crop (224, or 227 for AlexNet as implemented)
     * @param mode   the cropping
     * @param mean   (3) per-channel mean in pixel units, subtracted; zeros for none
     * @param pca    the colour components, or null for no colour shift
     * @param pcaStd the standard deviation of the alphas (0.1 in the paper)
     * @param scale  the final factor (1 as in the paper; 1/255 for unit range)
     */
    public record Transform(int crop, Crop mode, float[] mean, RgbPca pca, double pcaStd, float scale) {

        public Transform {
            if (crop < 1) {
                throw new IllegalArgumentException("ImageFolder.Transform: crop must be at least 1, got " + crop);
            }
            Objects.requireNonNull(mode, "mode");
            if (mean == null || mean.length != 3) {
                throw new IllegalArgumentException("ImageFolder.Transform: mean must have 3 values (R, G, B), got "
                        + (mean == null ? "null" : mean.length));
            }
            mean = mean.clone();
            if (!(pcaStd >= 0) || !(Float.isFinite(scale) && scale != 0)) {
                throw new IllegalArgumentException("ImageFolder.Transform: pcaStd must be >= 0 and scale finite and"
                        + " non-zero, got " + pcaStd + " and " + scale);
            }
        }

        /** Training: random crop and flip, mean subtracted, colour shift with alpha ~ N(0, 0.1) when pca is given. */
        public static Transform train(int crop, float[] mean, RgbPca pca) {
            return new Transform(crop, Crop.RANDOM, mean, pca, pca == null ? 0 : 0.1, 1f);
        }

        /** {@link #train} with the result multiplied by {@code scale} (1 / {@link ImageFolder#std} for unit variance). */
        public static Transform train(int crop, float[] mean, RgbPca pca, float scale) {
            return new Transform(crop, Crop.RANDOM, mean, pca, pca == null ? 0 : 0.1, scale);
        }

        /** {@link #center} with the result multiplied by {@code scale}. */
        public static Transform center(int crop, float[] mean, float scale) {
            return new Transform(crop, Crop.CENTER, mean, null, 0, scale);
        }

        /** {@link #tenCrop} with the result multiplied by {@code scale}. */
        public static Transform tenCrop(int crop, float[] mean, float scale) {
            return new Transform(crop, Crop.TEN, mean, null, 0, scale);
        }

        /** Evaluation on the centre crop, mean subtracted. */
        public static Transform center(int crop, float[] mean) {
            return new Transform(crop, Crop.CENTER, mean, null, 0, 1f);
        }

        /** Evaluation on ten crops, mean subtracted. */
        public static Transform tenCrop(int crop, float[] mean) {
            return new Transform(crop, Crop.TEN, mean, null, 0, 1f);
        }

        /** V, the images per sample. */
        public int views() {
            return mode == Crop.TEN ? 10 : 1;
        }
    }

    record Decoded(MemorySegment pixels, int height, int width, String problem) {}

    private final Path root;
    private final List<String> classes;
    private final int size;                // S
    private final Arena arena;             // shared: decoding threads allocate, a loader thread reads
    private final AtomicReferenceArray<MemorySegment> pixels; // (N) each (H, W, 3) u8; null: not in memory
    private final long cacheLimit;         // bytes of pixels kept in memory at most (Long.MAX_VALUE: all)
    private final AtomicLong cached = new AtomicLong();  // bytes of pixels kept
    private final AtomicLong decodes = new AtomicLong(); // files decoded after loading
    private final AtomicInteger failedDecodes = new AtomicInteger();
    private final int[] heights, widths;   // (N)
    private final int[] labels;            // (N)
    private final Path[] files;            // (N)
    private final int skipped;

    private ImageFolder(Path root, List<String> classes, int size, Arena arena, MemorySegment[] pixels,
            long cacheLimit, int[] heights, int[] widths, int[] labels, Path[] files, int skipped) {
        this.root = root;
        this.classes = classes;
        this.size = size;
        this.arena = arena;
        this.pixels = new AtomicReferenceArray<>(pixels);
        this.cacheLimit = cacheLimit;
        for (MemorySegment p : pixels) {
            if (p != null) cached.addAndGet(p.byteSize());
        }
        this.heights = heights;
        this.widths = widths;
        this.labels = labels;
        this.files = files;
        this.skipped = skipped;
    }

    /** Loads {@code root} with S = 256 on up to 4 decoding threads. */
    public static ImageFolder load(Path root) {
        return load(root, DEFAULT_SIZE, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    /**
     * Loads {@code root}, resizing every image so its shorter side is
     * {@code shorterSide}, decoding on {@code threads} threads.
     */
    public static ImageFolder load(Path root, int shorterSide, int threads) {
        return index(root, shorterSide, threads, -1);
    }

    /**
     * Opens {@code root} without decoding it: each file's header is read at
     * once (on {@code threads} threads; files that are not images are skipped
     * with one warning line, as by {@link #load}), and its pixels are decoded
     * and resized when first needed, on the thread that needs them (a
     * loader's threads), then kept in memory while the pixels kept stay within
     * {@code cacheBytes}: with room for all, epochs after the first decode
     * nothing. A file whose header reads but whose pixels do not decode is
     * counted ({@link #failedDecodes()}), named once on stderr, and read as
     * black.
     */
    public static ImageFolder open(Path root, int shorterSide, int threads, long cacheBytes) {
        if (cacheBytes < 0) {
            throw new IllegalArgumentException("ImageFolder(" + root + "): the cache limit must be >= 0 bytes, got "
                    + cacheBytes);
        }
        return index(root, shorterSide, threads, cacheBytes);
    }

    /** Lists and decodes (cacheBytes < 0) or probes (cacheBytes >= 0) every file. */
    private static ImageFolder index(Path root, int shorterSide, int threads, long cacheBytes) {
        boolean eager = cacheBytes < 0;
        if (shorterSide < 1 || threads < 1) {
            throw new IllegalArgumentException("ImageFolder(" + root + "): shorter side and threads must be at least 1,"
                    + " got " + shorterSide + " and " + threads);
        }
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("ImageFolder: " + root + " is not a folder");
        }
        List<Path> classDirs = list(root).stream().filter(Files::isDirectory).filter(p -> !hidden(p)).sorted().toList();
        if (classDirs.isEmpty()) {
            throw new IllegalArgumentException("ImageFolder: " + root + " has no class subfolders (expected "
                    + root + "/<class>/<image>)");
        }
        List<String> classes = classDirs.stream().map(p -> p.getFileName().toString()).toList();
        List<Path> paths = new ArrayList<>();
        List<Integer> pathLabels = new ArrayList<>();
        for (int c = 0; c < classDirs.size(); c++) {
            List<Path> inClass = walk(classDirs.get(c));
            if (inClass.isEmpty()) {
                throw new IllegalArgumentException("ImageFolder(" + root + "): class folder " + classDirs.get(c)
                        + " is empty");
            }
            for (Path p : inClass) {
                paths.add(p);
                pathLabels.add(c);
            }
        }

        Arena arena = Arena.ofShared();
        ExecutorService pool = Executors.newFixedThreadPool(threads,
                Thread.ofPlatform().name("isthmus-decode-", 1).daemon(true).factory());
        try {
            List<Future<Decoded>> futures = new ArrayList<>(paths.size());
            for (Path p : paths) {
                futures.add(pool.submit(() -> eager ? decode(p, shorterSide, arena) : probe(p, shorterSide)));
            }
            int n = 0;
            int skipped = 0;
            String firstProblem = null;
            Decoded[] decoded = new Decoded[paths.size()];
            int[] perClass = new int[classes.size()];
            for (int i = 0; i < paths.size(); i++) {
                decoded[i] = get(futures.get(i), paths.get(i));
                if (decoded[i].problem() != null) {
                    skipped++;
                    if (firstProblem == null) {
                        firstProblem = root.relativize(paths.get(i)) + ": " + decoded[i].problem();
                    }
                } else {
                    n++;
                    perClass[pathLabels.get(i)]++;
                }
            }
            for (int c = 0; c < classes.size(); c++) {
                if (perClass[c] == 0) {
                    throw new IllegalArgumentException("ImageFolder(" + root + "): class folder " + classDirs.get(c)
                            + " holds no readable image");
                }
            }
            if (skipped > 0) {
                System.err.println("ImageFolder(" + root + "): skipped " + skipped + " of " + paths.size()
                        + " files that are not readable images (first: " + firstProblem + ")");
            }
            MemorySegment[] pixels = new MemorySegment[n];
            int[] heights = new int[n], widths = new int[n], labels = new int[n];
            Path[] files = new Path[n];
            for (int i = 0, k = 0; i < decoded.length; i++) {
                if (decoded[i].problem() == null) {
                    pixels[k] = decoded[i].pixels();
                    heights[k] = decoded[i].height();
                    widths[k] = decoded[i].width();
                    labels[k] = pathLabels.get(i);
                    files[k] = paths.get(i);
                    k++;
                }
            }
            return new ImageFolder(root, classes, shorterSide, arena, pixels, eager ? Long.MAX_VALUE : cacheBytes,
                    heights, widths, labels, files, skipped);
        } catch (RuntimeException | Error e) {
            pool.shutdownNow();
            arena.close();
            throw e;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Decoded get(Future<Decoded> f, Path p) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("ImageFolder: interrupted while decoding " + p, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("ImageFolder: decoding " + p + " failed: " + e.getCause(), e.getCause());
        }
    }

    private static boolean hidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            throw new UncheckedIOException("ImageFolder: cannot list " + dir, e);
        }
    }

    /** The regular, non-hidden files under dir, at any depth, sorted. */
    private static List<Path> walk(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> !dir.relativize(p).toString().startsWith(".") && !hidden(p))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("ImageFolder: cannot list " + dir, e);
        }
    }

    /** Decodes and resizes one file into the arena; a file that does not decode comes back with its problem. */
    static Decoded decode(Path file, int shorterSide, Arena arena) {   // package-private for ImageDecodeFuzzTest
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            return new Decoded(null, 0, 0, String.valueOf(e.getMessage() == null ? e : e.getMessage()));
        }
        if (img == null) {
            return new Decoded(null, 0, 0, "not an image format ImageIO reads");
        }
        int h = img.getHeight(), w = img.getWidth();
        int[] resized = resizedShape(h, w, shorterSide);
        byte[] out = resize(rgb(img), h, w, resized[0], resized[1]); // (h, w, 3) -> (oh, ow, 3)
        MemorySegment seg = arena.allocate(out.length, 64);
        MemorySegment.copy(out, 0, seg, ValueLayout.JAVA_BYTE, 0, out.length);
        return new Decoded(seg, resized[0], resized[1], null);
    }

    /** The (height, width) of an h x w image resized to a shorter side of S. */
    private static int[] resizedShape(int h, int w, int shorterSide) {
        if (h <= w) {
            return new int[] {shorterSide, Math.max(shorterSide, (int) Math.round((double) w * shorterSide / h))};
        }
        return new int[] {Math.max(shorterSide, (int) Math.round((double) h * shorterSide / w)), shorterSide};
    }

    /** Reads one file's header only: its resized shape, or its problem; no pixels. */
    private static Decoded probe(Path file, int shorterSide) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                return new Decoded(null, 0, 0, "not an image format ImageIO reads");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int[] resized = resizedShape(reader.getHeight(0), reader.getWidth(0), shorterSide);
                return new Decoded(null, resized[0], resized[1], null);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return new Decoded(null, 0, 0, String.valueOf(e.getMessage() == null ? e : e.getMessage()));
        }
    }

    /**
     * Image i's stored pixels, (H, W, 3): from memory, or decoded now (and
     * kept when the cache has room). Safe on any number of threads; two
     * threads decoding the same image at once keep the first copy.
     */
    private MemorySegment stored(int i) {
        MemorySegment p = pixels.get(Objects.checkIndex(i, heights.length));
        if (p != null) {
            return p;
        }
        decodes.incrementAndGet();
        int h = heights[i], w = widths[i];
        long bytes = 3L * h * w;
        byte[] out = decodePixels(i, h, w);
        if (cached.addAndGet(bytes) > cacheLimit) {
            cached.addAndGet(-bytes);
            return MemorySegment.ofArray(out); // no room: decoded again next time
        }
        MemorySegment seg = arena.allocate(bytes, 64);
        MemorySegment.copy(out, 0, seg, ValueLayout.JAVA_BYTE, 0, out.length);
        if (!pixels.compareAndSet(i, null, seg)) {
            cached.addAndGet(-bytes); // another thread kept its copy first (this one stays allocated until close)
            return pixels.get(i);
        }
        return seg;
    }

    /** Decodes and resizes file i to the (h, w, 3) its header promised; black, counted and reported, when it fails. */
    private byte[] decodePixels(int i, int h, int w) {
        String problem;
        try {
            BufferedImage img = ImageIO.read(files[i].toFile());
            if (img == null) {
                problem = "not an image format ImageIO reads";
            } else {
                int[] resized = resizedShape(img.getHeight(), img.getWidth(), size);
                if (resized[0] == h && resized[1] == w) {
                    return resize(rgb(img), img.getHeight(), img.getWidth(), h, w);
                }
                problem = "decodes to " + img.getHeight() + "x" + img.getWidth() + ", not the size its header gave";
            }
        } catch (IOException | RuntimeException e) {
            problem = String.valueOf(e.getMessage() == null ? e : e.getMessage());
        }
        if (failedDecodes.incrementAndGet() == 1) {
            System.err.println("ImageFolder(" + root + "): " + root.relativize(files[i]) + " did not decode (" + problem
                    + "); its samples are black, and failedDecodes() counts such files");
        }
        return new byte[3 * h * w];
    }

    /** The pixels as (H, W, 3) RGB bytes: alpha dropped, grey expanded, grey values taken as stored. */
    static byte[] rgb(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth();
        byte[] out = new byte[h * w * 3];
        int[] row = new int[w];
        ColorModel cm = img.getColorModel();
        if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof IndexColorModel)) {
            // getRGB would convert linear grey to sRGB and brighten it; take the stored samples instead.
            Raster r = img.getRaster();
            int max = (1 << cm.getComponentSize(0)) - 1;
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    byte v = (byte) (max == 255 ? row[x] : Math.round(row[x] * 255.0 / max));
                    int o = (y * w + x) * 3;
                    out[o] = v;
                    out[o + 1] = v;
                    out[o + 2] = v;
                }
            }
            return out;
        }
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                int o = (y * w + x) * 3;
                out[o] = (byte) (p >> 16);
                out[o + 1] = (byte) (p >> 8);
                out[o + 2] = (byte) p;
            }
        }
        return out;
    }

    /** Filter taps along one axis: output o reads inputs first[o] .. first[o]+count[o]-1 with weights. */
    private record Taps(int[] first, int[] count, float[] weights, int stride) {}

    /**
     * A triangle filter of radius max(1, in/out) input pixels centred on each
     * output pixel's centre, normalised: linear interpolation when growing,
     * an average over the covered area when shrinking (PIL's BILINEAR).
     */
    private static Taps taps(int in, int out) {
        double scale = (double) in / out;
        double support = Math.max(1, scale);
        int stride = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[out], count = new int[out];
        float[] weights = new float[out * stride];
        for (int o = 0; o < out; o++) {
            double centre = (o + 0.5) * scale - 0.5;
            int lo = Math.max(0, (int) Math.floor(centre - support) + 1);
            int hi = Math.min(in - 1, (int) Math.ceil(centre + support) - 1);
            if (hi < lo) {
                lo = hi = Math.clamp(Math.round(centre), 0, in - 1);
            }
            double sum = 0;
            for (int i = lo; i <= hi; i++) {
                sum += Math.max(0, 1 - Math.abs(i - centre) / support);
            }
            first[o] = lo;
            count[o] = hi - lo + 1;
            for (int i = lo; i <= hi; i++) {
                double wgt = sum > 0 ? Math.max(0, 1 - Math.abs(i - centre) / support) / sum : 1.0 / count[o];
                weights[o * stride + i - lo] = (float) wgt;
            }
        }
        return new Taps(first, count, weights, stride);
    }

    /** Resizes (h, w, 3) bytes to (oh, ow, 3), separably, rounding to the nearest byte. */
    static byte[] resize(byte[] src, int h, int w, int oh, int ow) {
        if (h == oh && w == ow) {
            return src;
        }
        Taps tx = taps(w, ow), ty = taps(h, oh);
        float[] tmp = new float[h * ow * 3]; // (h, ow, 3)
        for (int y = 0; y < h; y++) {
            for (int o = 0; o < ow; o++) {
                float r = 0, g = 0, b = 0;
                int base = o * tx.stride();
                for (int k = 0; k < tx.count()[o]; k++) {
                    float wgt = tx.weights()[base + k];
                    int s = (y * w + tx.first()[o] + k) * 3;
                    r += wgt * (src[s] & 0xff);
                    g += wgt * (src[s + 1] & 0xff);
                    b += wgt * (src[s + 2] & 0xff);
                }
                int d = (y * ow + o) * 3;
                tmp[d] = r;
                tmp[d + 1] = g;
                tmp[d + 2] = b;
            }
        }
        byte[] out = new byte[oh * ow * 3];
        float[] acc = new float[ow * 3];
        for (int o = 0; o < oh; o++) {
            Arrays.fill(acc, 0f);
            int base = o * ty.stride();
            for (int k = 0; k < ty.count()[o]; k++) {
                float wgt = ty.weights()[base + k];
                int s = (ty.first()[o] + k) * ow * 3;
                for (int i = 0; i < acc.length; i++) {
                    acc[i] += wgt * tmp[s + i];
                }
            }
            for (int i = 0; i < acc.length; i++) {
                out[o * ow * 3 + i] = (byte) Math.clamp(Math.round(acc[i]), 0, 255);
            }
        }
        return out;
    }

    // ---- the dataset

    /** The root folder. */
    public Path root() {
        return root;
    }

    /** The class names in index order (sorted subfolder names). */
    public List<String> classes() {
        return classes;
    }

    /** N, the images kept. */
    public int count() {
        return heights.length;
    }

    /** S, the shorter side of every stored image. */
    public int shorterSide() {
        return size;
    }

    /** Bytes of decoded pixels held in memory now. */
    public long cachedBytes() {
        return cached.get();
    }

    /** Files decoded since loading (none for {@link #load}; misses of the cache for {@link #open}). */
    public long decodes() {
        return decodes.get();
    }

    /** Files whose header read but whose pixels did not decode ({@link #open}); their samples are black. */
    public int failedDecodes() {
        return failedDecodes.get();
    }

    /** How many files were skipped as not readable images. */
    public int skipped() {
        return skipped;
    }

    public int label(int i) {
        return labels[Objects.checkIndex(i, labels.length)];
    }

    /** A copy of all labels, (N). */
    public int[] labels() {
        return labels.clone();
    }

    public int height(int i) {
        return heights[Objects.checkIndex(i, heights.length)];
    }

    public int width(int i) {
        return widths[Objects.checkIndex(i, widths.length)];
    }

    /** The file image i came from. */
    public Path file(int i) {
        return files[Objects.checkIndex(i, files.length)];
    }

    /** Image i, (H, W, 3) RGB bytes, a read-only view of the stored pixels. */
    public MemorySegment pixels(int i) {
        checkOpen();
        return stored(i).asReadOnly();
    }

    /** All indices 0..N-1. */
    public int[] indices() {
        int[] all = new int[count()];
        Arrays.setAll(all, i -> i);
        return all;
    }

    /**
     * A held-out split: from each class, round(fraction * its count) images
     * drawn with the seed go to validation, the rest to training.
     */
    public ImageDataset.Split split(double validationFraction, long seed) {
        if (!(validationFraction >= 0 && validationFraction <= 1)) {
            throw new IllegalArgumentException("ImageFolder(" + root + "): validation fraction must be in [0, 1], got "
                    + validationFraction);
        }
        List<Integer> train = new ArrayList<>(), validation = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            List<Integer> members = new ArrayList<>();
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == c) members.add(i);
            }
            SplittableRandom random = new SplittableRandom(Seeds.mix(seed, c));
            for (int i = members.size() - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                members.set(i, members.set(j, members.get(i)));
            }
            int v = (int) Math.round(validationFraction * members.size());
            validation.addAll(members.subList(0, v));
            train.addAll(members.subList(v, members.size()));
        }
        int[] t = train.stream().mapToInt(Integer::intValue).sorted().toArray();
        int[] v = validation.stream().mapToInt(Integer::intValue).sorted().toArray();
        return new ImageDataset.Split(t, v);
    }

    /** The per-channel mean (3) of the given images' pixels, in pixel units [0, 255]. */
    public float[] mean(int[] indices) {
        checkOpen();
        double[] sum = new double[3];
        long count = 0;
        for (int i : indices) {
            MemorySegment p = stored(i);
            long[] part = new long[3];
            long n = p.byteSize() / 3;
            for (long k = 0; k < n; k++) {
                part[0] += p.get(ValueLayout.JAVA_BYTE, 3 * k) & 0xff;
                part[1] += p.get(ValueLayout.JAVA_BYTE, 3 * k + 1) & 0xff;
                part[2] += p.get(ValueLayout.JAVA_BYTE, 3 * k + 2) & 0xff;
            }
            for (int c = 0; c < 3; c++) sum[c] += part[c];
            count += n;
        }
        if (count == 0) {
            throw new IllegalArgumentException("ImageFolder(" + root + "): the mean of no images");
        }
        return new float[] {(float) (sum[0] / count), (float) (sum[1] / count), (float) (sum[2] / count)};
    }

    /**
     * The standard deviation of pixel values (0..255) around {@code mean} (from {@link #mean}),
     * pooled over the three channels and the given images: 1 / std is the Transform scale that
     * gives inputs of unit variance (torchvision's Normalize, with one std for all channels).
     */
    public float std(int[] indices, float[] mean) {
        checkOpen();
        if (mean == null || mean.length != 3) {
            throw new IllegalArgumentException("ImageFolder.std: mean must have 3 values (R, G, B)");
        }
        double sum = 0;
        long count = 0;
        for (int i : indices) {
            MemorySegment p = stored(i);
            long n = p.byteSize();
            double part = 0;
            for (long k = 0; k < n; k++) {
                double d = (p.get(ValueLayout.JAVA_BYTE, k) & 0xff) - mean[(int) (k % 3)];
                part += d * d;
            }
            sum += part;
            count += n;
        }
        if (count == 0) {
            throw new IllegalArgumentException("ImageFolder(" + root + "): the std of no images");
        }
        return (float) Math.sqrt(sum / count);
    }

    /**
     * The principal components of RGB values (pixel / 255) over the given
     * images, from {@code pixelsPerImage} pixels drawn per image with the seed.
     */
    public RgbPca pca(int[] indices, int pixelsPerImage, long seed) {
        checkOpen();
        if (indices.length == 0 || pixelsPerImage < 1) {
            throw new IllegalArgumentException("ImageFolder(" + root + "): PCA needs images and pixels, got "
                    + indices.length + " images and " + pixelsPerImage + " pixels per image");
        }
        double[] s = new double[3];
        double[][] ss = new double[3][3];
        long n = 0;
        SplittableRandom random = new SplittableRandom(Seeds.mix(seed, 0xC0_10_B5));
        double[] v = new double[3];
        for (int i : indices) {
            MemorySegment p = stored(i);
            long count = p.byteSize() / 3;
            for (int k = 0; k < pixelsPerImage; k++) {
                long at = 3 * random.nextLong(count);
                for (int c = 0; c < 3; c++) v[c] = (p.get(ValueLayout.JAVA_BYTE, at + c) & 0xff) / 255.0;
                for (int a = 0; a < 3; a++) {
                    s[a] += v[a];
                    for (int b = 0; b < 3; b++) ss[a][b] += v[a] * v[b];
                }
                n++;
            }
        }
        double[][] cov = new double[3][3];
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                cov[a][b] = ss[a][b] / n - (s[a] / n) * (s[b] / n);
            }
        }
        for (int a = 0; a < 3; a++) { // exactly symmetric
            for (int b = a + 1; b < 3; b++) cov[b][a] = cov[a][b];
        }
        return RgbPca.of(cov);
    }

    // ---- samples

    /**
     * The (3, size, size) crop of image i at (top, left), mirrored when
     * {@code flip}, written to {@code dst} as {@code (pixel - mean[c] + offset[c]) * scale}.
     */
    public void crop(int i, int top, int left, int size, boolean flip, float[] mean, float[] offset, float scale,
            MemorySegment dst) {
        checkOpen();
        MemorySegment p = stored(i);
        int h = heights[i], w = widths[i];
        if (size < 1 || top < 0 || left < 0 || top + size > h || left + size > w) {
            throw new IllegalArgumentException("ImageFolder(" + root + "): crop " + size + "x" + size + " at (" + top
                    + ", " + left + ") does not fit image " + i + " of " + h + "x" + w);
        }
        long plane = (long) size * size;
        if (dst.byteSize() < 3 * plane * Float.BYTES) {
            throw new IllegalArgumentException("ImageFolder: destination of " + dst.byteSize() + " bytes is smaller than"
                    + " (3, " + size + ", " + size + ") float32");
        }
        float add0 = offset[0] - mean[0], add1 = offset[1] - mean[1], add2 = offset[2] - mean[2];
        for (int y = 0; y < size; y++) {
            long rowBase = ((long) (top + y) * w + left) * 3;
            for (int x = 0; x < size; x++) {
                long s = rowBase + 3L * (flip ? size - 1 - x : x);
                long d = (long) y * size + x;
                dst.setAtIndex(ValueLayout.JAVA_FLOAT, d, ((p.get(ValueLayout.JAVA_BYTE, s) & 0xff) + add0) * scale);
                dst.setAtIndex(ValueLayout.JAVA_FLOAT, plane + d,
                        ((p.get(ValueLayout.JAVA_BYTE, s + 1) & 0xff) + add1) * scale);
                dst.setAtIndex(ValueLayout.JAVA_FLOAT, 2 * plane + d,
                        ((p.get(ValueLayout.JAVA_BYTE, s + 2) & 0xff) + add2) * scale);
            }
        }
    }

    /** The raw (3, size, size) crop of image i at (top, left) as floats in [0, 255], mirrored when flip. */
    public float[] crop(int i, int top, int left, int size, boolean flip) {
        float[] out = new float[3 * size * size];
        crop(i, top, left, size, flip, new float[3], new float[3], 1f, MemorySegment.ofArray(out));
        return out;
    }

    /**
     * Renders sample i under {@code t} into {@code dst}, (V, 3, crop, crop)
     * float32. RANDOM draws, in order from {@code random}: top, left, flip,
     * then three alphas when colour shifting.
     */
    public void render(int i, Transform t, Random random, MemorySegment dst) {
        render(i, t, random, dst, new float[3]);
    }

    /** {@link #render(int, Transform, Random, MemorySegment)} with {@code offset} (3) as scratch: nothing allocated. */
    private void render(int i, Transform t, Random random, MemorySegment dst, float[] offset) {
        int h = height(i), w = width(i), c = t.crop();
        if (c > h || c > w) {
            throw new IllegalArgumentException("ImageFolder(" + root + "): crop " + c + " exceeds image " + i + " of "
                    + h + "x" + w);
        }
        long viewBytes = 3L * c * c * Float.BYTES;
        Arrays.fill(offset, 0f);
        switch (t.mode()) {
            case RANDOM -> {
                int top = random.nextInt(h - c + 1);
                int left = random.nextInt(w - c + 1);
                boolean flip = random.nextBoolean();
                if (t.pca() != null && t.pcaStd() > 0) {
                    t.pca().shift(random, t.pcaStd(), offset);
                    for (int k = 0; k < 3; k++) offset[k] *= 255f;
                }
                crop(i, top, left, c, flip, t.mean(), offset, t.scale(), dst);
            }
            case CENTER -> crop(i, (h - c) / 2, (w - c) / 2, c, false, t.mean(), offset, t.scale(), dst);
            case TEN -> {
                for (int v = 0; v < 10; v++) { // corners (top left, top right, bottom left, bottom right), centre
                    int corner = v % 5;
                    int top = corner == 4 ? (h - c) / 2 : corner >= 2 ? h - c : 0;
                    int left = corner == 4 ? (w - c) / 2 : corner % 2 == 1 ? w - c : 0;
                    crop(i, top, left, c, v >= 5, t.mean(), offset, t.scale(), dst.asSlice(v * viewBytes, viewBytes));
                }
            }
        }
    }

    /**
     * A {@link BatchLoader} of samples under {@code t}: batches of images
     * (B*V, 3, crop, crop) float32 and labels (B), rendered on the loader's
     * thread; each sample's random draws are seeded by (seed, epoch, image
     * index), so a run is reproducible. This folder must stay open while the
     * loader runs.
     */
    public BatchLoader loader(int[] indices, int batchSize, long seed, Transform t, boolean shuffle, boolean dropLast) {
        return loader(indices, batchSize, seed, t, shuffle, dropLast, 1);
    }

    /**
     * {@link #loader(int[], int, long, Transform, boolean, boolean)} on {@code threads} loader threads, which also
     * decode the images not yet in memory; the batches are the same for any thread count.
     */
    public BatchLoader loader(int[] indices, int batchSize, long seed, Transform t, boolean shuffle, boolean dropLast,
            int threads) {
        checkOpen();
        Objects.requireNonNull(t, "transform");
        if (t.crop() > size) {
            throw new IllegalArgumentException("ImageFolder(" + root + "): crop " + t.crop()
                    + " exceeds the shorter side " + size);
        }
        String name = "ImageFolder(" + root.getFileName() + ", " + t.mode() + " " + t.crop() + ")";
        long sampleBytes = (long) t.views() * 3 * t.crop() * t.crop() * Float.BYTES;
        ThreadLocal<float[]> offsets = ThreadLocal.withInitial(() -> new float[3]); // per loader thread
        return new BatchLoader(new BatchLoader.Source() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int count() {
                return ImageFolder.this.count();
            }

            @Override
            public long sampleBytes() {
                return sampleBytes;
            }

            @Override
            public int views() {
                return t.views();
            }

            @Override
            public int label(int index) {
                return labels[index];
            }

            @Override
            public void render(int index, MemorySegment dst, Random random) {
                ImageFolder.this.render(index, t, random, dst, offsets.get());
            }
        }, indices, batchSize, seed, shuffle, dropLast, threads);
    }

    private void checkOpen() {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("ImageFolder(" + root + ") is closed");
        }
    }

    /** Frees the pixels; a no-op when already closed. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "ImageFolder(" + root + "): " + count() + " images in " + classes.size() + " classes, shorter side "
                + size;
    }
}

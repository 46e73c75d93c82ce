package dev.isthmus.nn.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A labelled image dataset in memory: N preprocessed images as float32
 * (N, C, H, W) row-major in one off-heap segment, their int labels, and
 * optionally the raw unsigned bytes they came from, (N, R, K), for pictures.
 *
 * <p>The dataset owns a shared arena (shared: a {@link BatchLoader} reads it
 * from its background thread) and frees it on {@link #close()}; afterwards
 * every access to its segments throws {@link IllegalStateException}. A
 * {@link #subset(int)} is a view that owns nothing and dies with its parent.
 * Subsets for validation are index arrays, see {@link #split(int, long)}.
 */
public final class ImageDataset implements AutoCloseable {

    /** Indices of a dataset cut in two disjoint parts, each in increasing order. */
    public record Split(int[] train, int[] validation) {}

    private final String name;
    private final int count;                 // N
    private final int channels, height, width; // C, H, W
    private final Arena arena;               // null for a view
    private final MemorySegment images;      // (N, C, H, W) f32
    private final int[] labels;              // (N)
    private final MemorySegment raw;         // (N, R, K) u8, or NULL
    private final int rawRows, rawCols;      // R, K; 0 without raw bytes

    ImageDataset(String name, int count, int channels, int height, int width, Arena arena,
            MemorySegment images, int[] labels, MemorySegment raw, int rawRows, int rawCols) {
        this.name = name;
        this.count = count;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.arena = arena;
        this.images = images;
        this.labels = labels;
        this.raw = raw;
        this.rawRows = rawRows;
        this.rawCols = rawCols;
        assert images.byteSize() == (long) count * channels * height * width * Float.BYTES;
        assert labels.length == count;
    }

    /**
     * A dataset holding a copy of {@code images}, (N, C, H, W) float32
     * row-major, and of {@code labels} (N); no raw bytes.
     */
    public static ImageDataset copyOf(String name, int channels, int height, int width, float[] images, int[] labels) {
        Objects.requireNonNull(name, "name");
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException(name + ": image shape must be positive, got (C, H, W) = ("
                    + channels + ", " + height + ", " + width + ")");
        }
        long perImage = (long) channels * height * width;
        if (images.length != perImage * labels.length) {
            throw new IllegalArgumentException(name + ": " + labels.length + " labels need " + labels.length
                    + " x " + channels + "x" + height + "x" + width + " = " + perImage * labels.length
                    + " floats, got " + images.length);
        }
        Arena arena = Arena.ofShared();
        MemorySegment seg = arena.allocate((long) images.length * Float.BYTES, 64);
        MemorySegment.copy(images, 0, seg, ValueLayout.JAVA_FLOAT, 0, images.length);
        return new ImageDataset(name, labels.length, channels, height, width, arena, seg, labels.clone(),
                MemorySegment.NULL, 0, 0);
    }

    /** A short name for messages ("mnist/train"). */
    public String name() {
        return name;
    }

    /** N, the number of samples. */
    public int count() {
        return count;
    }

    public int channels() {
        return channels;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** Bytes of one preprocessed image: C*H*W*4. */
    public long imageBytes() {
        return (long) channels * height * width * Float.BYTES;
    }

    /** All preprocessed images, (N, C, H, W) float32 row-major. */
    public MemorySegment images() {
        return images;
    }

    /** Image i, (C, H, W) float32, a view into {@link #images()}. */
    public MemorySegment image(int i) {
        Objects.checkIndex(i, count);
        return images.asSlice(i * imageBytes(), imageBytes());
    }

    /** The label of sample i. */
    public int label(int i) {
        return labels[Objects.checkIndex(i, count)];
    }

    /** A copy of all labels, (N). */
    public int[] labels() {
        return labels.clone();
    }

    /** The labels without a copy, for this package's loops; never written. */
    int[] labelArray() {
        return labels;
    }

    /** Whether the raw bytes the images came from are kept. */
    public boolean hasRaw() {
        return rawRows > 0;
    }

    /** R, the rows of a raw image (28 for MNIST). */
    public int rawRows() {
        return rawRows;
    }

    /** K, the columns of a raw image (28 for MNIST). */
    public int rawCols() {
        return rawCols;
    }

    /** All raw images, (N, R, K) unsigned bytes. */
    public MemorySegment raw() {
        requireRaw();
        return raw;
    }

    /** A copy of raw image i, (R, K) unsigned bytes row-major (0 background, 255 ink for MNIST). */
    public byte[] rawImage(int i) {
        requireRaw();
        Objects.checkIndex(i, count);
        int size = rawRows * rawCols;
        byte[] out = new byte[size];
        MemorySegment.copy(raw, ValueLayout.JAVA_BYTE, (long) i * size, out, 0, size);
        return out;
    }

    private void requireRaw() {
        if (!hasRaw()) {
            throw new IllegalStateException(name + ": this dataset keeps no raw image bytes");
        }
    }

    /**
     * Cuts the samples in a seeded random validation part of
     * {@code validationCount} samples and a training part of the rest; the
     * same seed gives the same cut. No data is copied.
     */
    public Split split(int validationCount, long seed) {
        if (validationCount < 0 || validationCount > count) {
            throw new IllegalArgumentException(name + ": validation count must be in [0, " + count + "], got "
                    + validationCount);
        }
        int[] perm = new int[count];
        Arrays.setAll(perm, i -> i);
        SplittableRandom random = new SplittableRandom(Seeds.mix(seed, 0x5EED));
        for (int i = count - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int[] validation = Arrays.copyOfRange(perm, 0, validationCount);
        int[] train = Arrays.copyOfRange(perm, validationCount, count);
        Arrays.sort(validation);
        Arrays.sort(train);
        return new Split(train, validation);
    }

    /** All indices 0..N-1 in order, to hand a whole dataset to a {@link BatchLoader}. */
    public int[] indices() {
        int[] all = new int[count];
        Arrays.setAll(all, i -> i);
        return all;
    }

    /**
     * The first n samples, as a view sharing this dataset's memory (no copy);
     * closing the view does nothing, closing this dataset invalidates it.
     */
    public ImageDataset subset(int n) {
        if (n < 0 || n > count) {
            throw new IllegalArgumentException(name + ": subset size must be in [0, " + count + "], got " + n);
        }
        MemorySegment rawView = hasRaw() ? raw.asSlice(0, (long) n * rawRows * rawCols) : MemorySegment.NULL;
        return new ImageDataset(name + "[0:" + n + "]", n, channels, height, width, null,
                images.asSlice(0, n * imageBytes()), Arrays.copyOf(labels, n), rawView, rawRows, rawCols);
    }

    /** Frees the off-heap memory (a no-op for a view and when already closed). */
    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return name + ": " + count + " images (" + channels + ", " + height + ", " + width + ")";
    }
}

package dev.isthmus.nn.data;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The MNIST digits in memory, preprocessed as in LeCun, Bottou, Bengio,
 * Haffner, "Gradient-based learning applied to document recognition" (1998),
 * section III.A: each 28x28 digit is centred in a 32x32 field (2 pixels of
 * background on each side) and pixel p in [0, 255] becomes
 * {@code p/255*1.275 - 0.1}, so the background is -0.1 and full ink 1.175.
 *
 * <p>The files are read with {@link Idx} and checked for format only, not
 * for hash, so any MNIST-format data of 28x28 digits with labels 0..9
 * (Fashion-MNIST, for one) loads as well. Each split is an
 * {@link ImageDataset} with images (N, 1, 32, 32) float32 and the raw
 * (N, 28, 28) bytes; closing this closes both.
 */
public final class Mnist implements AutoCloseable {

    /** R = K: the side of a raw MNIST digit. */
    public static final int RAW_SIZE = 28;
    /** H = W: the side of a preprocessed image. */
    public static final int SIZE = 32;
    /** Background pixels on each side of the digit. */
    public static final int PAD = (SIZE - RAW_SIZE) / 2;
    /** The value of background (p = 0) after preprocessing. */
    public static final float BACKGROUND = -0.1f;
    /** The value of full ink (p = 255) after preprocessing. */
    public static final float FOREGROUND = 1.175f;
    /** Labels are 0..CLASSES-1. */
    public static final int CLASSES = 10;

    private final ImageDataset train;
    private final ImageDataset test;

    private Mnist(ImageDataset train, ImageDataset test) {
        this.train = train;
        this.test = test;
    }

    /** Loads the four files from {@code folder} (standard names, raw or {@code .gz}). */
    public static Mnist load(Path folder) {
        MnistFiles files = MnistFiles.in(folder).orElseThrow(() -> new IllegalArgumentException(
                folder + ": no MNIST files here: " + MnistFiles.missing(folder)));
        return load(files);
    }

    /** Loads the four named files. */
    public static Mnist load(MnistFiles files) {
        ImageDataset train = load("mnist/train", files.trainImages(), files.trainLabels());
        try {
            return new Mnist(train, load("mnist/test", files.testImages(), files.testLabels()));
        } catch (RuntimeException | Error e) {
            train.close();
            throw e;
        }
    }

    /** Reads one pair of image and label files and preprocesses the images. */
    public static ImageDataset load(String name, Path imagesFile, Path labelsFile) {
        return preprocess(name, Idx.readImages(imagesFile), Idx.readLabels(labelsFile));
    }

    /** The 60000 training samples (or however many the files hold). */
    public ImageDataset train() {
        return train;
    }

    /** The 10000 test samples. */
    public ImageDataset test() {
        return test;
    }

    /** The preprocessed value of raw pixel p in [0, 255]: p/255*1.275 - 0.1. */
    public static float scale(int p) {
        if (p < 0 || p > 255) {
            throw new IllegalArgumentException("pixel must be in [0, 255], got " + p);
        }
        return (float) (p / 255.0 * 1.275 - 0.1);
    }

    /** Pads and scales (N, 28, 28) bytes into (N, 1, 32, 32) floats; checks the pairing and the labels. */
    static ImageDataset preprocess(String name, Idx.Images images, Idx.Labels labels) {
        if (images.rows() != RAW_SIZE || images.cols() != RAW_SIZE) {
            throw new DataFileException(images.file(), "expected MNIST digits of " + RAW_SIZE + "x" + RAW_SIZE
                    + ", the header says " + images.rows() + "x" + images.cols());
        }
        if (images.count() != labels.count()) {
            throw new DataFileException(labels.file(), "has " + labels.count() + " labels but "
                    + images.file().getFileName() + " has " + images.count() + " images");
        }
        int n = images.count();
        int[] intLabels = new int[n];
        byte[] rawLabels = labels.labels();
        for (int i = 0; i < n; i++) {
            int label = rawLabels[i] & 0xff;
            if (label >= CLASSES) {
                throw new DataFileException(labels.file(), "label " + label + " at index " + i
                        + " is outside 0.." + (CLASSES - 1));
            }
            intLabels[i] = label;
        }

        float[] table = new float[256];
        for (int p = 0; p < 256; p++) {
            table[p] = scale(p);
        }
        int rawBytes = RAW_SIZE * RAW_SIZE;
        int floats = SIZE * SIZE;
        // One shared arena for both segments: a BatchLoader reads them from its own thread.
        Arena arena = Arena.ofShared();
        try {
            MemorySegment out = arena.allocate((long) n * floats * Float.BYTES, 64); // (N, 1, 32, 32) f32
            MemorySegment raw = arena.allocate(Math.max(1, (long) n * rawBytes), 64); // (N, 28, 28) u8
            byte[] pixels = images.pixels();
            MemorySegment.copy(pixels, 0, raw, ValueLayout.JAVA_BYTE, 0, pixels.length);
            float[] image = new float[floats]; // (32, 32); the border stays background
            Arrays.fill(image, table[0]);
            for (int i = 0; i < n; i++) {
                int src = i * rawBytes;
                for (int r = 0; r < RAW_SIZE; r++) {
                    int dst = (r + PAD) * SIZE + PAD;
                    for (int c = 0; c < RAW_SIZE; c++) {
                        image[dst + c] = table[pixels[src + r * RAW_SIZE + c] & 0xff];
                    }
                }
                MemorySegment.copy(image, 0, out, ValueLayout.JAVA_FLOAT, (long) i * floats * Float.BYTES, floats);
            }
            return new ImageDataset(name, n, 1, SIZE, SIZE, arena, out, intLabels,
                    raw.asSlice(0, (long) n * rawBytes), RAW_SIZE, RAW_SIZE);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            train.close();
        } finally {
            test.close();
        }
    }
}

package dev.isthmus.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The IDX reader on small generated files: raw and gzipped, and every way a file can be wrong. */
class IdxTest {

    @TempDir
    Path dir;

    private static final int N = 7;

    private static byte[] images() {
        return TestFiles.idxImages(Idx.IMAGES_MAGIC, N, 28, 28, TestFiles.pixels(N, 28, 28, 11));
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message lacks \"" + part + "\": " + e.getMessage());
        }
    }

    @Test
    void rawAndGzipReadTheSameAndGzipIsFoundByItsMagicNotItsName() {
        byte[] bytes = images();
        // Misleading names on purpose: the gzipped file has no .gz, the raw one has.
        Path gz = TestFiles.write(dir.resolve("images-idx3-ubyte"), TestFiles.gzip(bytes));
        Path raw = TestFiles.write(dir.resolve("images-idx3-ubyte.gz"), bytes);
        assertTrue(Idx.isGzip(gz));
        assertFalse(Idx.isGzip(raw));
        Idx.Images a = Idx.readImages(gz);
        Idx.Images b = Idx.readImages(raw);
        assertEquals(N, a.count());
        assertEquals(28, a.rows());
        assertEquals(28, a.cols());
        assertArrayEquals(Arrays.copyOfRange(bytes, 16, bytes.length), a.pixels());
        assertArrayEquals(a.pixels(), b.pixels());

        byte[] labels = TestFiles.labels(N, 12);
        Path lgz = TestFiles.write(dir.resolve("labels.gz"), TestFiles.gzip(TestFiles.idxLabels(Idx.LABELS_MAGIC, N, labels)));
        assertArrayEquals(labels, Idx.readLabels(lgz).labels());
    }

    @Test
    void truncatedGzipNamesTheFileAndWhatTheHeaderPromised() {
        byte[] gz = TestFiles.gzip(images());
        Path file = TestFiles.write(dir.resolve("t10k-images-idx3-ubyte.gz"), Arrays.copyOf(gz, gz.length / 2));
        DataFileException e = assertThrows(DataFileException.class, () -> Idx.readImages(file));
        assertEquals(file, e.file());
        assertMessage(e, "t10k-images-idx3-ubyte.gz", "truncated", "header says 7 images of 28x28 = 5504 bytes",
                "decompressed data has", "gzip stream is cut short");
    }

    @Test
    void gzipOfATruncatedFileIsTruncatedToo() {
        byte[] bytes = images();
        Path file = TestFiles.write(dir.resolve("x.gz"), TestFiles.gzip(Arrays.copyOf(bytes, 5000)));
        DataFileException e = assertThrows(DataFileException.class, () -> Idx.readImages(file));
        assertMessage(e, "truncated: header says 7 images of 28x28 = 5504 bytes, decompressed data has 5000");
    }

    @Test
    void truncatedAndOverlongRawFiles() {
        byte[] bytes = images();
        Path cut = TestFiles.write(dir.resolve("cut"), Arrays.copyOf(bytes, 5000));
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readImages(cut)),
                "truncated: header says 7 images of 28x28 = 5504 bytes, file has 5000");
        Path longer = TestFiles.write(dir.resolve("long"), Arrays.copyOf(bytes, 5507));
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readImages(longer)),
                "trailing bytes: header says 7 images of 28x28 = 5504 bytes, file has 5507");
        Path longerGz = TestFiles.write(dir.resolve("long.gz"), TestFiles.gzip(Arrays.copyOf(bytes, 5507)));
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readImages(longerGz)),
                "trailing bytes", "decompressed data has 5507");
        Path headerOnly = TestFiles.write(dir.resolve("header"), Arrays.copyOf(bytes, 10));
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readImages(headerOnly)),
                "truncated: an IDX image header has 16 bytes, file has 10");
        Path empty = TestFiles.write(dir.resolve("empty"), new byte[0]);
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readLabels(empty)), "too short");
        Path labels = TestFiles.write(dir.resolve("labels"), Arrays.copyOf(TestFiles.idxLabels(Idx.LABELS_MAGIC, N, TestFiles.labels(N, 1)), 12));
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readLabels(labels)),
                "truncated: header says 7 labels = 15 bytes, file has 12");
    }

    @Test
    void wrongMagicSaysWhatWasExpectedAndWhatCame() {
        byte[] bytes = images();
        bytes[3] = 0x04;
        Path bad = TestFiles.write(dir.resolve("bad.gz"), TestFiles.gzip(bytes));
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readImages(bad)),
                "bad.gz", "not an IDX image file", "expected magic 0x00000803", "found 0x00000804");

        Path labels = TestFiles.write(dir.resolve("labels"), TestFiles.idxLabels(Idx.LABELS_MAGIC, N, TestFiles.labels(N, 1)));
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readImages(labels)),
                "found 0x00000801 (an IDX label file)");
        Path images = TestFiles.write(dir.resolve("images"), images());
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readLabels(images)),
                "expected magic 0x00000801", "found 0x00000803 (an IDX image file)");
        Path text = TestFiles.write(dir.resolve("text"), "hello, world, this is not IDX".getBytes());
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readImages(text)), "first two bytes must be zero");
    }

    @Test
    void badDimensions() {
        Path zeroRows = TestFiles.write(dir.resolve("zero"), TestFiles.idxImages(Idx.IMAGES_MAGIC, 3, 0, 28, new byte[0]));
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readImages(zeroRows)),
                "bad dimensions: images of 0x28");
        Path negative = TestFiles.write(dir.resolve("neg"), TestFiles.idxImages(Idx.IMAGES_MAGIC, -1, 28, 28, new byte[0]));
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readImages(negative)),
                "bad dimensions: count is 4294967295");
        Path huge = TestFiles.write(dir.resolve("huge"), TestFiles.idxImages(Idx.IMAGES_MAGIC, 1 << 20, 1 << 10, 1 << 10, new byte[0]));
        assertMessage(assertThrows(DataFileException.class, () -> Idx.readImages(huge)), "more than this reader takes");

        // A valid IDX file of 27x28 images is not MNIST.
        Path odd = TestFiles.write(dir.resolve("odd"), TestFiles.idxImages(Idx.IMAGES_MAGIC, 2, 27, 28, new byte[2 * 27 * 28]));
        Path labels = TestFiles.write(dir.resolve("l"), TestFiles.idxLabels(Idx.LABELS_MAGIC, 2, new byte[2]));
        assertMessage(assertThrows(DataFileException.class, () -> Mnist.load("odd", odd, labels)),
                "expected MNIST digits of 28x28, the header says 27x28");
    }

    @Test
    void corruptGzipBody() {
        byte[] gz = TestFiles.gzip(images());
        for (int i = 20; i < 60; i++) {
            gz[i] ^= (byte) 0x5a;
        }
        Path file = TestFiles.write(dir.resolve("corrupt.gz"), gz);
        DataFileException e = assertThrows(DataFileException.class, () -> Idx.readImages(file));
        assertMessage(e, "corrupt.gz");
    }

    @Test
    void imagesAndLabelsMustPairUpAndLabelsMustBeDigits() {
        Path images = TestFiles.write(dir.resolve("i"), images());
        Path six = TestFiles.write(dir.resolve("six"), TestFiles.idxLabels(Idx.LABELS_MAGIC, 6, TestFiles.labels(6, 3)));
        assertMessage(assertThrows(DataFileException.class, () -> Mnist.load("pair", images, six)),
                "has 6 labels but i has 7 images");
        byte[] labels = TestFiles.labels(N, 3);
        labels[4] = 10;
        Path ten = TestFiles.write(dir.resolve("ten"), TestFiles.idxLabels(Idx.LABELS_MAGIC, N, labels));
        assertMessage(assertThrows(DataFileException.class, () -> Mnist.load("ten", images, ten)),
                "label 10 at index 4 is outside 0..9");
    }

    @Test
    void mnistPadsAndScalesEachDigitAndKeepsTheRawBytes() {
        Path folder = dir.resolve("mnist");
        var files = TestFiles.writeMnist(folder, 5, 3, true, 21);
        byte[] raw = Arrays.copyOfRange(files.get(MnistFiles.TRAIN_IMAGES), 16, 16 + 5 * 784);
        byte[] labels = Arrays.copyOfRange(files.get(MnistFiles.TRAIN_LABELS), 8, 8 + 5);
        try (Mnist mnist = Mnist.load(folder)) {
            ImageDataset train = mnist.train();
            assertEquals(5, train.count());
            assertEquals(3, mnist.test().count());
            assertEquals(1, train.channels());
            assertEquals(32, train.height());
            assertEquals(32, train.width());
            assertEquals(5L * 32 * 32 * 4, train.images().byteSize());
            for (int i = 0; i < 5; i++) {
                assertEquals(labels[i], train.label(i));
                assertArrayEquals(Arrays.copyOfRange(raw, i * 784, (i + 1) * 784), train.rawImage(i));
                float[] image = train.image(i).toArray(ValueLayout.JAVA_FLOAT);
                for (int y = 0; y < 32; y++) {
                    for (int x = 0; x < 32; x++) {
                        boolean inside = y >= 2 && y < 30 && x >= 2 && x < 30;
                        float expected = inside
                                ? (float) ((raw[i * 784 + (y - 2) * 28 + (x - 2)] & 0xff) / 255.0 * 1.275 - 0.1)
                                : -0.1f;
                        assertEquals(expected, image[y * 32 + x], "image " + i + " at (" + y + ", " + x + ")");
                    }
                }
            }
        }
        assertEquals(-0.1f, Mnist.scale(0));
        assertEquals(1.175f, Mnist.scale(255));
    }

    @Test
    void aFolderWithoutTheFilesSaysWhichAreMissing() {
        TestFiles.write(dir.resolve(MnistFiles.TRAIN_IMAGES), images());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Mnist.load(dir));
        assertMessage(e, dir.toString(), "missing train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]");
    }

    /** Issue 14: 2^30 x 2^30 x 16 overflowed the size to 0 and returned 2^30 images of 0 pixels. */
    @Test
    void aHeaderWhoseSizeOverflowsIsRefused() {
        Path f = TestFiles.write(dir.resolve("overflow-idx3-ubyte"), TestFiles.idxImages(Idx.IMAGES_MAGIC, 1 << 30, 1 << 30, 16, new byte[0]));
        DataFileException e = assertThrows(DataFileException.class, () -> Idx.readImages(f));
        assertTrue(e.getMessage().startsWith(f + ": bad dimensions: 1073741824 images of 1073741824x16"), e.getMessage());
    }

    /** Issue 14: a gzipped header promising 2^31-1 labels gave "Requested array size exceeds VM limit", no file named. */
    @Test
    void aGzippedHeaderPromisingMoreThanItHoldsAllocatesNothingBig() {
        Path f = TestFiles.write(dir.resolve("huge-idx1-ubyte.gz"), TestFiles.gzip(TestFiles.idxLabels(Idx.LABELS_MAGIC, Integer.MAX_VALUE, new byte[10])));
        DataFileException e = assertThrows(DataFileException.class, () -> Idx.readLabels(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        Path g = TestFiles.write(dir.resolve("big-idx1-ubyte.gz"), TestFiles.gzip(TestFiles.idxLabels(Idx.LABELS_MAGIC, 2_000_000_000, new byte[10])));
        e = assertThrows(DataFileException.class, () -> Idx.readLabels(g));
        assertTrue(e.getMessage().startsWith(g + ": truncated: header says 2000000000 labels"), e.getMessage());
    }
}

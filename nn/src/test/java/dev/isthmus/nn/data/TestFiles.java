package dev.isthmus.nn.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Small generated IDX files, gzip and tar archives for the data tests. */
final class TestFiles {

    private TestFiles() {}

    /** An IDX image file's bytes: magic, N, R, K, then {@code pixels}. */
    static byte[] idxImages(int magic, int count, int rows, int cols, byte[] pixels) {
        ByteBuffer b = ByteBuffer.allocate(16 + pixels.length); // big-endian, as IDX
        b.putInt(magic).putInt(count).putInt(rows).putInt(cols).put(pixels);
        return b.array();
    }

    /** An IDX label file's bytes: magic, N, then {@code labels}. */
    static byte[] idxLabels(int magic, int count, byte[] labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(magic).putInt(count).put(labels);
        return b.array();
    }

    /** Seeded random pixels, (N, R, K). */
    static byte[] pixels(int count, int rows, int cols, long seed) {
        byte[] p = new byte[count * rows * cols];
        new Random(seed).nextBytes(p);
        return p;
    }

    /** Seeded random labels in 0..9. */
    static byte[] labels(int count, long seed) {
        Random r = new Random(seed);
        byte[] l = new byte[count];
        for (int i = 0; i < count; i++) {
            l[i] = (byte) r.nextInt(10);
        }
        return l;
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static Path write(Path file, byte[] data) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a small MNIST-format folder (28x28 digits) and returns the
     * uncompressed bytes of the four files by standard name.
     */
    static Map<String, byte[]> writeMnist(Path folder, int trainCount, int testCount, boolean gz, long seed) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(MnistFiles.TRAIN_IMAGES, idxImages(Idx.IMAGES_MAGIC, trainCount, 28, 28, pixels(trainCount, 28, 28, seed)));
        files.put(MnistFiles.TRAIN_LABELS, idxLabels(Idx.LABELS_MAGIC, trainCount, labels(trainCount, seed + 1)));
        files.put(MnistFiles.TEST_IMAGES, idxImages(Idx.IMAGES_MAGIC, testCount, 28, 28, pixels(testCount, 28, 28, seed + 2)));
        files.put(MnistFiles.TEST_LABELS, idxLabels(Idx.LABELS_MAGIC, testCount, labels(testCount, seed + 3)));
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            if (gz) {
                write(folder.resolve(e.getKey() + ".gz"), gzip(e.getValue()));
            } else {
                write(folder.resolve(e.getKey()), e.getValue());
            }
        }
        return files;
    }

    /** A tar archive writer: ustar headers, GNU long names and pax path records on request. */
    static final class TarBuilder {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        TarBuilder file(String name, byte[] data) {
            if (name.length() > 100) {
                int slash = name.lastIndexOf('/', name.length() - 2);
                header(name.substring(slash + 1), name.substring(0, slash), data.length, '0');
            } else {
                header(name, "", data.length, '0');
            }
            body(data);
            return this;
        }

        TarBuilder dir(String name) {
            header(name, "", 0, '5');
            return this;
        }

        /** A file whose name comes in a preceding GNU 'L' member. */
        TarBuilder gnuLongName(String name, byte[] data) {
            byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
            header("././@LongLink", "", n.length, 'L');
            body(n);
            header(name.substring(0, 99), "", data.length, '0');
            body(data);
            return this;
        }

        /** A file whose name comes in a preceding pax 'x' member's path record. */
        TarBuilder paxName(String name, byte[] data) {
            String rec = " path=" + name + "\n";
            int len = rec.length() + 1;
            while (len != rec.length() + Integer.toString(len).length()) {
                len = rec.length() + Integer.toString(len).length();
            }
            byte[] pax = (len + rec).getBytes(StandardCharsets.UTF_8);
            header("PaxHeader/x", "", pax.length, 'x');
            body(pax);
            header("short-name", "", data.length, '0');
            body(data);
            return this;
        }

        byte[] tar() {
            out.writeBytes(new byte[1024]); // two zero blocks end the archive
            return out.toByteArray();
        }

        byte[] tgz() {
            return gzip(tar());
        }

        private void header(String name, String prefix, long size, char type) {
            byte[] h = new byte[512];
            put(h, 0, name);
            put(h, 100, "0000644");
            put(h, 108, "0000000");
            put(h, 116, "0000000");
            put(h, 124, String.format("%011o", size));
            put(h, 136, "00000000000");
            for (int i = 148; i < 156; i++) h[i] = ' ';
            h[156] = (byte) type;
            put(h, 257, "ustar");
            put(h, 263, "00");
            put(h, 345, prefix);
            long sum = 0;
            for (byte x : h) sum += x & 0xff;
            put(h, 148, String.format("%06o", sum));
            h[154] = 0;
            h[155] = ' ';
            out.writeBytes(h);
        }

        private void body(byte[] data) {
            out.writeBytes(data);
            out.writeBytes(new byte[(512 - data.length % 512) % 512]);
        }

        private static void put(byte[] h, int off, String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            System.arraycopy(b, 0, h, off, b.length);
        }
    }
}

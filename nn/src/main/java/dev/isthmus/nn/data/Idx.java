package dev.isthmus.nn.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader of IDX files of unsigned bytes, the format of MNIST (LeCun, Cortes,
 * Burges: http://yann.lecun.com/exdb/mnist/): a big-endian header (magic
 * {@code 0x00000803} and N, R, K for images; magic {@code 0x00000801} and N for
 * labels) followed by the bytes, row-major. A file may be raw or gzipped;
 * gzip is recognised by its magic bytes, not by the file name.
 *
 * <p>Every file is checked whole: the magic, the dimensions, and that the
 * (decompressed) length is exactly header plus N*R*K bytes. Anything else
 * throws a {@link DataFileException} naming the file, what the header
 * promised and what came. This class does not interpret the bytes; see
 * {@link Mnist} for the preprocessing.
 */
public final class Idx {

    /** Magic number of an IDX file of unsigned bytes with 3 dimensions (images). */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of an IDX file of unsigned bytes with 1 dimension (labels). */
    public static final int LABELS_MAGIC = 0x00000801;

    private static final int IMAGES_HEADER = 16;
    private static final int LABELS_HEADER = 8;
    private static final int BUFFER = 1 << 16;
    /** The largest Java array; a bigger payload does not fit this reader. */
    private static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    private Idx() {}

    /** The images of an IDX image file: {@code pixels} is (N, R, K) unsigned bytes, row-major. */
    public record Images(Path file, int count, int rows, int cols, byte[] pixels) {}

    /** The labels of an IDX label file: {@code labels} is (N) unsigned bytes. */
    public record Labels(Path file, int count, byte[] labels) {}

    /** Reads an IDX image file (magic 0x00000803), raw or gzipped. */
    public static Images readImages(Path file) {
        Raw r = read(file, true);
        return new Images(file, r.dims[0], r.dims[1], r.dims[2], r.payload);
    }

    /** Reads an IDX label file (magic 0x00000801), raw or gzipped. */
    public static Labels readLabels(Path file) {
        Raw r = read(file, false);
        return new Labels(file, r.dims[0], r.payload);
    }

    /** Whether the file starts with the gzip magic bytes 1f 8b. */
    public static boolean isGzip(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The whole content of a file, decompressed when it is gzipped. */
    static byte[] readAllBytes(Path file) {
        try (InputStream in = open(file)) {
            return in.readAllBytes();
        } catch (ZipException | EOFException e) {
            throw new DataFileException(file, "corrupt or truncated gzip data (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** Opens a file for reading, decompressing it when it starts with the gzip magic bytes. */
    static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), BUFFER);
        raw.mark(2);
        boolean gz = raw.read() == 0x1f && raw.read() == 0x8b;
        raw.reset();
        return gz ? new GZIPInputStream(raw, BUFFER) : raw;
    }

    private record Raw(int[] dims, byte[] payload) {}

    private static Raw read(Path file, boolean images) {
        int headerBytes = images ? IMAGES_HEADER : LABELS_HEADER;
        int expectedMagic = images ? IMAGES_MAGIC : LABELS_MAGIC;
        String kind = images ? "image" : "label";
        boolean gz = isGzip(file);
        String has = gz ? "decompressed data has" : "file has";
        try (InputStream in = open(file)) {
            Reader reader = new Reader(file, in);
            byte[] header = new byte[headerBytes];
            int got = reader.readFully(header);
            if (got < 4) {
                throw new DataFileException(file, "too short for an IDX " + kind + " file: " + has + " "
                        + got + " bytes, the header alone has " + headerBytes + reader.cut());
            }
            int magic = intAt(header, 0);
            if (magic != expectedMagic) {
                throw new DataFileException(file, String.format(
                        "not an IDX %s file: expected magic 0x%08x (unsigned bytes, %d dimension%s), found 0x%08x%s",
                        kind, expectedMagic, images ? 3 : 1, images ? "s" : "", magic, describeMagic(magic)));
            }
            if (got < headerBytes) {
                throw new DataFileException(file, "truncated: an IDX " + kind + " header has " + headerBytes
                        + " bytes, " + has + " " + got + reader.cut());
            }
            int[] dims = new int[images ? 3 : 1];
            for (int d = 0; d < dims.length; d++) {
                dims[d] = intAt(header, 4 + 4 * d);
            }
            checkDims(file, images, dims);
            long payloadBytes = images ? Math.multiplyExact(Math.multiplyExact((long) dims[0], dims[1]), dims[2]) : dims[0];
            long total = headerBytes + payloadBytes;
            String promise = images
                    ? "header says " + dims[0] + " images of " + dims[1] + "x" + dims[2] + " = " + total + " bytes"
                    : "header says " + dims[0] + " labels = " + total + " bytes";
            if (!gz) {
                long size = Files.size(file);
                if (size != total) {
                    throw new DataFileException(file, (size < total ? "truncated: " : "trailing bytes: ")
                            + promise + ", file has " + size);
                }
            }
            // The raw file's length was checked above; a gzip stream's is known only once read, so its
            // payload grows with what arrives (readNBytes), never allocating what the header merely promises.
            byte[] payload = gz ? reader.readUpTo((int) payloadBytes) : new byte[(int) payloadBytes];
            int n = gz ? payload.length : reader.readFully(payload);
            if (n < payloadBytes) {
                throw new DataFileException(file, "truncated: " + promise + ", " + has + " "
                        + (headerBytes + n) + reader.cut());
            }
            if (reader.read() >= 0) {
                long extra = 1 + in.transferTo(OutputStream.nullOutputStream());
                throw new DataFileException(file, "trailing bytes: " + promise + ", " + has + " " + (total + extra));
            }
            return new Raw(dims, payload);
        } catch (DataFileException e) {
            throw e;
        } catch (ZipException e) {
            throw new DataFileException(file, "corrupt gzip data (" + e.getMessage() + ")", e);
        } catch (EOFException e) {   // found by ParserFuzzTest: the gzip magic and less than a gzip header
            throw new DataFileException(file, "truncated gzip data: the stream ends inside its header", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static void checkDims(Path file, boolean images, int[] dims) {
        if (dims[0] < 0) {
            throw new DataFileException(file, "bad dimensions: count is " + Integer.toUnsignedLong(dims[0])
                    + ", more than this reader takes (at most " + Integer.MAX_VALUE + ")");
        }
        if (!images && dims[0] > MAX_BYTES - LABELS_HEADER) {
            throw new DataFileException(file, "bad dimensions: " + dims[0] + " labels, more than this reader takes ("
                    + (MAX_BYTES - LABELS_HEADER) + ")");
        }
        if (images) {
            if (dims[1] <= 0 || dims[2] <= 0) {
                throw new DataFileException(file, "bad dimensions: images of " + Integer.toUnsignedLong(dims[1])
                        + "x" + Integer.toUnsignedLong(dims[2]) + " (rows and columns must be at least 1 and below 2^31)");
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(Math.multiplyExact((long) dims[0], dims[1]), dims[2]);
            } catch (ArithmeticException e) {
                bytes = Long.MAX_VALUE;   // beyond any limit: reported below
            }
            if (bytes > MAX_BYTES - IMAGES_HEADER) {
                throw new DataFileException(file, "bad dimensions: " + dims[0] + " images of " + dims[1] + "x"
                        + dims[2] + " = " + bytes + " bytes, more than this reader takes (" + MAX_BYTES + ")");
            }
        }
    }

    private static String describeMagic(int magic) {
        if ((magic >>> 16) != 0) {
            return " (not an IDX file: its first two bytes must be zero)";
        }
        int type = (magic >>> 8) & 0xff;
        int dims = magic & 0xff;
        if (magic == LABELS_MAGIC) return " (an IDX label file)";
        if (magic == IMAGES_MAGIC) return " (an IDX image file)";
        String typeName = switch (type) {
            case 0x08 -> "unsigned bytes";
            case 0x09 -> "signed bytes";
            case 0x0B -> "shorts";
            case 0x0C -> "ints";
            case 0x0D -> "floats";
            case 0x0E -> "doubles";
            default -> "unknown type 0x" + Integer.toHexString(type);
        };
        return " (IDX of " + typeName + ", " + dims + " dimensions)";
    }

    private static int intAt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    /** Reads until a buffer is full or the data ends; remembers a gzip stream that was cut short. */
    private static final class Reader {
        private final Path file;
        private final InputStream in;
        private String cutShort;

        Reader(Path file, InputStream in) {
            this.file = file;
            this.in = in;
        }

        int readFully(byte[] buf) throws IOException {
            int off = 0;
            while (off < buf.length && cutShort == null) {
                int n;
                try {
                    n = in.read(buf, off, buf.length - off);
                } catch (EOFException e) {
                    cutShort = e.getMessage();
                    break;
                }
                if (n < 0) break;
                off += n;
            }
            return off;
        }

        /** Up to {@code max} bytes, fewer when the data ends; the array grows with the data read. */
        byte[] readUpTo(int max) throws IOException {
            try {
                return in.readNBytes(max);
            } catch (EOFException e) {
                cutShort = e.getMessage();
                return new byte[0];
            }
        }

        int read() throws IOException {
            try {
                return cutShort == null ? in.read() : -1;
            } catch (EOFException e) {
                throw new DataFileException(file, "the gzip stream is cut short after its data (" + e.getMessage() + ")", e);
            }
        }

        String cut() {
            return cutShort == null ? "" : " (the gzip stream is cut short: " + cutShort + ")";
        }
    }
}

package dev.isthmus.nn.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A minimal reader of tar archives (POSIX ustar, with the GNU long-name and
 * pax {@code path} extensions that npm's packer may write), enough to unpack
 * an npm package. It reads a stream once, front to back, and keeps the bytes
 * of the regular files a predicate asks for. It is not a general archiver: no
 * links, no permissions, nothing is written to disk.
 */
final class Tar {

    private static final int BLOCK = 512;

    private Tar() {}

    /**
     * One member of the archive; {@code data} holds its bytes when it is a
     * regular file that was asked for, else null.
     */
    record Entry(String name, long size, char type, byte[] data) {
        boolean isFile() {
            return type == '0' || type == '\0' || type == '7';
        }
    }

    /**
     * Reads every member of the (uncompressed) tar stream {@code in}, keeping
     * the bytes of the regular files whose name {@code keep} accepts.
     * {@code archive} names the archive in error messages.
     */
    static List<Entry> read(InputStream in, String archive, Predicate<String> keep) throws IOException {
        List<Entry> entries = new ArrayList<>();
        byte[] header = new byte[BLOCK];
        String longName = null; // from a GNU 'L' member or a pax 'path' record, for the next member
        while (true) {
            int got = in.readNBytes(header, 0, BLOCK);
            if (got == 0) {
                break; // no end-of-archive blocks; tolerated, as GNU tar does
            }
            if (got < BLOCK) {
                throw new IOException(archive + ": truncated tar: a header block has " + got + " of " + BLOCK + " bytes");
            }
            if (isZero(header)) {
                break; // end of archive
            }
            checkChecksum(header, archive);
            String name = string(header, 0, 100);
            String magic = string(header, 257, 6);
            if (magic.startsWith("ustar")) {
                String prefix = string(header, 345, 155);
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
            }
            long size = number(header, 124, 12, archive, name);
            char type = (char) (header[156] & 0xff);
            switch (type) {
                case 'L' -> { // GNU long name: the data is the next member's name
                    longName = trimNul(new String(readData(in, size, archive, name), StandardCharsets.UTF_8));
                    continue;
                }
                case 'x' -> { // pax extended header for the next member
                    String path = paxPath(readData(in, size, archive, name), archive);
                    if (path != null) {
                        longName = path;
                    }
                    continue;
                }
                default -> { }
            }
            if (longName != null) {
                name = longName;
                longName = null;
            }
            Entry probe = new Entry(name, size, type, null);
            if (probe.isFile() && keep.test(name)) {
                entries.add(new Entry(name, size, type, readData(in, size, archive, name)));
            } else {
                skipData(in, size, archive, name);
                entries.add(probe);
            }
        }
        return entries;
    }

    private static byte[] readData(InputStream in, long size, String archive, String name) throws IOException {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IOException(archive + ": member " + name + " has " + size + " bytes, too many to hold in memory");
        }
        byte[] data = in.readNBytes((int) size);
        if (data.length < size) {
            throw new IOException(archive + ": truncated tar: member " + name + " has " + data.length + " of its "
                    + size + " bytes");
        }
        skipFully(in, padding(size), archive, name);
        return data;
    }

    private static void skipData(InputStream in, long size, String archive, String name) throws IOException {
        skipFully(in, size + padding(size), archive, name);
    }

    private static long padding(long size) {
        return (BLOCK - size % BLOCK) % BLOCK;
    }

    private static void skipFully(InputStream in, long n, String archive, String name) throws IOException {
        long left = n;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new IOException(archive + ": truncated tar: member " + name + " is cut short");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    /** The {@code path} record of a pax header ("LEN path=VALUE\n" records), or null. */
    private static String paxPath(byte[] data, String archive) throws IOException {
        int pos = 0;
        String path = null;
        while (pos < data.length) {
            int space = pos;
            while (space < data.length && data[space] != ' ') space++;
            if (space == data.length) break;
            int len;
            try {
                len = Integer.parseInt(new String(data, pos, space - pos, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new IOException(archive + ": bad pax header record at byte " + pos);
            }
            if (len <= 0 || pos + len > data.length) {
                throw new IOException(archive + ": bad pax header record length " + len + " at byte " + pos);
            }
            String record = new String(data, space + 1, pos + len - space - 2, StandardCharsets.UTF_8);
            if (record.startsWith("path=")) {
                path = record.substring(5);
            }
            pos += len;
        }
        return path;
    }

    private static void checkChecksum(byte[] header, String archive) throws IOException {
        long stored = number(header, 148, 8, archive, "(header)");
        long unsigned = 0;
        for (int i = 0; i < BLOCK; i++) {
            unsigned += (i >= 148 && i < 156) ? ' ' : (header[i] & 0xff);
        }
        if (stored != unsigned) {
            throw new IOException(archive + ": not a tar archive or corrupt: header checksum is " + stored
                    + ", the header sums to " + unsigned);
        }
    }

    /** An octal number field (NUL or space terminated), or GNU base-256 when the high bit is set. */
    private static long number(byte[] b, int off, int len, String archive, String name) throws IOException {
        if ((b[off] & 0x80) != 0) {
            long v = b[off] & 0x7f;
            for (int i = 1; i < len; i++) {
                v = (v << 8) | (b[off + i] & 0xff);
            }
            return v;
        }
        long v = 0;
        int i = off;
        int end = off + len;
        while (i < end && (b[i] == ' ' || b[i] == 0)) i++;
        for (; i < end && b[i] != 0 && b[i] != ' '; i++) {
            if (b[i] < '0' || b[i] > '7') {
                throw new IOException(archive + ": bad octal number in the tar header of " + name);
            }
            v = (v << 3) | (b[i] - '0');
        }
        return v;
    }

    private static String string(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) end++;
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    private static String trimNul(String s) {
        int end = s.indexOf('\0');
        return end < 0 ? s : s.substring(0, end);
    }

    private static boolean isZero(byte[] block) {
        for (byte x : block) {
            if (x != 0) return false;
        }
        return true;
    }
}

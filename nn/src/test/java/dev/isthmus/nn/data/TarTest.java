package dev.isthmus.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The tar reader on archives generated here, at sizes around the 512-byte block. */
class TarTest {

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void readsEveryKindOfNameAndSizesAroundTheBlock() throws IOException {
        String deep = "package/" + "d".repeat(80) + "/" + "e".repeat(40) + "/file-in-prefix.bin"; // > 100: ustar prefix
        String gnu = "package/" + "g".repeat(120) + "/gnu-long-name.bin";
        String pax = "package/" + "p".repeat(150) + "/pax-name.bin";
        byte[] tgz = new TestFiles.TarBuilder()
                .dir("package/")
                .file("package/empty", new byte[0])
                .file("package/one", bytes(1, 1))
                .file("package/block", bytes(512, 2))
                .file("package/odd", bytes(1023, 3))
                .file(deep, bytes(17, 4))
                .gnuLongName(gnu, bytes(513, 5))
                .paxName(pax, bytes(7, 6))
                .file("package/skipped", bytes(2000, 7))
                .tgz();
        List<Tar.Entry> entries = Tar.read(new GZIPInputStream(new ByteArrayInputStream(tgz)), "test.tgz",
                name -> !name.endsWith("skipped"));
        assertEquals(List.of("package/", "package/empty", "package/one", "package/block", "package/odd", deep, gnu, pax,
                "package/skipped"), entries.stream().map(Tar.Entry::name).toList());
        assertNull(entries.get(0).data(), "a directory has no data");
        assertArrayEquals(new byte[0], entries.get(1).data());
        assertArrayEquals(bytes(1, 1), entries.get(2).data());
        assertArrayEquals(bytes(512, 2), entries.get(3).data());
        assertArrayEquals(bytes(1023, 3), entries.get(4).data());
        assertArrayEquals(bytes(17, 4), entries.get(5).data());
        assertArrayEquals(bytes(513, 5), entries.get(6).data());
        assertArrayEquals(bytes(7, 6), entries.get(7).data());
        assertNull(entries.get(8).data(), "not asked for");
        assertEquals(2000, entries.get(8).size());
    }

    @Test
    void corruptHeaderAndTruncatedArchive() {
        byte[] tar = new TestFiles.TarBuilder().file("a", bytes(1000, 1)).tar();
        byte[] corrupt = tar.clone();
        corrupt[3] ^= 1;
        IOException e = assertThrows(IOException.class,
                () -> Tar.read(new ByteArrayInputStream(corrupt), "c.tar", n -> true));
        assertTrue(e.getMessage().contains("c.tar: not a tar archive or corrupt: header checksum"), e.getMessage());

        byte[] cut = Arrays.copyOf(tar, 900);
        e = assertThrows(IOException.class, () -> Tar.read(new ByteArrayInputStream(cut), "t.tar", n -> true));
        assertTrue(e.getMessage().contains("t.tar: truncated tar: member a has 388 of its 1000 bytes"), e.getMessage());

        byte[] cutHeader = Arrays.copyOf(tar, 100);
        e = assertThrows(IOException.class, () -> Tar.read(new ByteArrayInputStream(cutHeader), "h.tar", n -> true));
        assertTrue(e.getMessage().contains("a header block has 100 of 512 bytes"), e.getMessage());
    }
}

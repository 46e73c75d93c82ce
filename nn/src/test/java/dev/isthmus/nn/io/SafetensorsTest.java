package dev.isthmus.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.isthmus.nn.io.Safetensors.Dtype;
import dev.isthmus.nn.io.Safetensors.Entry;
import dev.isthmus.nn.io.Safetensors.FormatException;
import dev.isthmus.nn.io.Safetensors.Spec;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    /** 0.0f, 1.0f, ... as little-endian bytes. */
    private static float[] iota(int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = i;
        return f;
    }

    @Test
    void roundTripKeepsNamesShapesValuesAndMetadata() throws IOException {
        Path file = dir.resolve("model.safetensors");
        float[] w = new float[6 * 1 * 5 * 5];
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(i) * 0.1f;
        Map<String, Entry> tensors = new LinkedHashMap<>();
        tensors.put("conv1.weight", Entry.ofFloats(w, 6, 1, 5, 5));
        tensors.put("conv1.bias", Entry.ofFloats(new float[] {1, -2, 3, -4, 5, Float.MIN_VALUE}, 6));
        tensors.put("labels", Entry.ofInts(new int[] {7, 2, -1}, 3));
        tensors.put("pixels", Entry.ofBytes(new byte[] {0, (byte) 255, 17}, 1, 3));
        tensors.put("scalar", Entry.ofFloats(new float[] {42}));
        tensors.put("empty", Entry.ofFloats(new float[0], 0, 4));
        Map<String, String> meta = Map.of("format", "pt", "epoch", "3");
        Safetensors.write(file, tensors, meta);

        try (Safetensors s = Safetensors.read(file)) {
            assertEquals(meta, s.metadata());
            assertEquals(tensors.keySet(), s.entries().keySet());
            for (var e : tensors.entrySet()) assertEquals(e.getValue(), s.get(e.getKey()), e.getKey());
            assertArrayEquals(w, s.get("conv1.weight").toFloatArray());
            assertArrayEquals(new long[] {6, 1, 5, 5}, s.get("conv1.weight").shape());
            assertArrayEquals(new int[] {7, 2, -1}, s.get("labels").toIntArray());
            assertArrayEquals(new byte[] {0, (byte) 255, 17}, s.get("pixels").toByteArray());
            assertArrayEquals(new long[0], s.get("scalar").shape());
            assertEquals(42f, s.get("scalar").toFloatArray()[0]);
            // File order is the reference's: F32 by name, then I32, then U8.
            assertEquals(List.of("conv1.bias", "conv1.weight", "empty", "scalar", "labels", "pixels"),
                    List.copyOf(s.entries().keySet()));
            var e = assertThrows(IllegalArgumentException.class, () -> s.get("fc9"));
            assertTrue(e.getMessage().contains("no tensor 'fc9'"), e.getMessage());
        }
    }

    /** The byte vector of huggingface/safetensors' own test_serialization (tensor.rs). */
    @Test
    void matchesTheReferenceBytesForOneTensor() throws IOException {
        Path file = dir.resolve("ref.safetensors");
        Safetensors.write(file, Map.of("attn.0", Entry.ofFloats(iota(6), 1, 2, 3)), null);
        int[] expected = {
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64};
        assertArrayEquals(toBytes(expected), Files.readAllBytes(file));
    }

    /** The reference's test_empty with metadata {"framework": "pt"}: 35 bytes of JSON padded to 40 with spaces. */
    @Test
    void matchesTheReferenceBytesForMetadataOnly() throws IOException {
        Path file = dir.resolve("meta.safetensors");
        Safetensors.write(file, Map.of(), Map.of("framework", "pt"));
        int[] expected = {
            40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
            95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
            116, 34, 125, 125, 32, 32, 32, 32, 32};
        assertArrayEquals(toBytes(expected), Files.readAllBytes(file));
        Safetensors.write(file, Map.of(), null);
        assertArrayEquals(toBytes(new int[] {8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32}),
                Files.readAllBytes(file));
    }

    /** Hand-computed: dtype descending (F32, I32, U8), then name; header padded with 7 spaces to 168. */
    @Test
    void ordersByDtypeThenNameAndPadsWithSpaces() throws IOException {
        Path file = dir.resolve("order.safetensors");
        Map<String, Entry> t = new LinkedHashMap<>();
        t.put("bb", Entry.ofBytes(new byte[] {9, 8}, 2));
        t.put("a", Entry.ofInts(new int[] {-2}, 1));
        t.put("c", Entry.ofFloats(new float[] {0.5f}, 1));
        Safetensors.write(file, t, null);
        String json = "{\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"bb\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[8,10]}}";
        assertEquals(161, json.length());
        ByteBuffer b = ByteBuffer.allocate(8 + 168 + 10).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(168).put(json.getBytes(StandardCharsets.US_ASCII)).put("       ".getBytes(StandardCharsets.US_ASCII));
        b.put(new byte[] {0, 0, 0, 0x3f}); // 0.5f
        b.put(new byte[] {(byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff}); // -2
        b.put(new byte[] {9, 8});
        assertArrayEquals(b.array(), Files.readAllBytes(file));
    }

    @Test
    void truncatedFileNamesTheFileAndTensor() throws IOException {
        Path file = dir.resolve("t.safetensors");
        Safetensors.write(file, Map.of("fc.weight", Entry.ofFloats(iota(10), 2, 5)), null);
        byte[] all = Files.readAllBytes(file);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(all, all.length - 3));
        var e = assertThrows(FormatException.class, () -> Safetensors.read(cut));
        assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("'fc.weight'")
                && e.getMessage().contains("run past"), e.getMessage());

        Files.write(cut, java.util.Arrays.copyOf(all, 20));
        e = assertThrows(FormatException.class, () -> Safetensors.read(cut));
        assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());

        Files.write(cut, new byte[5]);
        e = assertThrows(FormatException.class, () -> Safetensors.read(cut));
        assertTrue(e.getMessage().contains("too short"), e.getMessage());

        // Trailing bytes that no tensor covers are rejected too, as in the reference.
        Files.write(cut, java.util.Arrays.copyOf(all, all.length + 4));
        e = assertThrows(FormatException.class, () -> Safetensors.read(cut));
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());
    }

    @Test
    void badHeaderLength() throws IOException {
        Path file = dir.resolve("bad.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(-1L).put("{}      ".getBytes(StandardCharsets.US_ASCII)); // 2^64 - 1
        Files.write(file, b.array());
        var e = assertThrows(FormatException.class, () -> Safetensors.read(file));
        assertTrue(e.getMessage().contains("18446744073709551615") && e.getMessage().contains("not sane"), e.getMessage());

        b.clear();
        b.putLong(200_000_000L);
        Files.write(file, b.array());
        assertThrows(FormatException.class, () -> Safetensors.read(file));
    }

    @Test
    void malformedHeaders() throws IOException {
        assertHeaderRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]", 4, "not valid JSON");
        assertHeaderRejected("[1,2]", 0, "must be a JSON object");
        assertHeaderRejected("{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2, "unsupported dtype \"F16\"");
        assertHeaderRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "non-negative");
        assertHeaderRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "2 elements");
        assertHeaderRejected("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__.k must be a string");
        assertHeaderRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                "tensor 'a': F32 [2] needs 8 bytes but data_offsets [0, 4] hold 4");
    }

    @Test
    void outOfBoundsOverlappingAndGappedOffsets() throws IOException {
        assertHeaderRejected("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
                "tensor 'w': data_offsets [0, 8] run past the data section of 4 bytes");
        assertHeaderRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", 8, "tensor 'b': data_offsets [2, 6] overlap tensor 'a'");
        assertHeaderRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "tensor 'a': data_offsets [4, 8] leave a gap");
        assertHeaderRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "end before they begin");
    }

    @Test
    void readsTensorsInAnyHeaderOrderByOffset() throws IOException {
        Path file = headerFile("{\"b\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[4,12]},"
                + "\"a\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", 12);
        try (Safetensors s = Safetensors.read(file)) {
            assertEquals(List.of("a", "b"), List.copyOf(s.entries().keySet()));
            assertArrayEquals(new long[] {0}, s.get("b").toLongArray());
        }
    }

    @Test
    void mismatchMessagesAreExact() throws IOException {
        Path file = dir.resolve("m.safetensors");
        Map<String, Entry> t = new LinkedHashMap<>();
        t.put("conv1.weight", Entry.ofFloats(new float[6 * 25], 6, 1, 5, 5));
        t.put("conv1.bias", Entry.ofInts(new int[6], 6));
        t.put("extra", Entry.ofFloats(new float[1], 1));
        Safetensors.write(file, t, null);
        Map<String, Spec> model = new LinkedHashMap<>();
        model.put("conv1.weight", Spec.f32(6, 3, 5, 5));
        model.put("conv1.bias", Spec.f32(6));
        model.put("fc.weight", Spec.f32(10, 84));
        try (Safetensors s = Safetensors.read(file)) {
            assertEquals(List.of(
                    "conv1.bias: dtype I32 in file, model expects F32",
                    "conv1.weight: shape [6, 1, 5, 5] in file, model expects [6, 3, 5, 5]",
                    "extra: unexpected, in file (F32 [1]) but not in the model",
                    "fc.weight: missing from file, model expects F32 [10, 84]"), s.mismatches(model));
            var e = assertThrows(IllegalArgumentException.class, () -> s.requireMatches(model));
            assertTrue(e.getMessage().startsWith(file + " does not fit the model:"), e.getMessage());
            Map<String, Spec> exact = Map.of("conv1.weight", Spec.f32(6, 1, 5, 5),
                    "conv1.bias", new Spec(Dtype.I32, new long[] {6}), "extra", Spec.f32(1));
            assertEquals(List.of(), s.mismatches(exact));
            s.requireMatches(exact);
        }
    }

    @Test
    void atomicWriteLeavesNoTempFile() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Safetensors.write(file, Map.of("w", Entry.ofFloats(iota(3), 3)), Map.of("epoch", "1"));
        Safetensors.write(file, Map.of("w", Entry.ofFloats(iota(4), 4)), Map.of("epoch", "2"));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
        try (Safetensors s = Safetensors.read(file)) {
            assertEquals("2", s.metadata().get("epoch"));
        }
    }

    @Test
    void writeThatFailsMidwayKeepsTheOldFile() throws IOException {
        Path file = dir.resolve("ckpt.safetensors");
        Safetensors.write(file, Map.of("w", Entry.ofFloats(iota(3), 3)), Map.of("epoch", "1"));
        byte[] before = Files.readAllBytes(file);

        Arena arena = Arena.ofConfined();
        var dead = arena.allocate(4 * 1024 * 1024); // larger than the 1 MiB staging buffer: some bytes reach the disk
        arena.close();
        Map<String, Entry> t = new LinkedHashMap<>();
        t.put("a", Entry.ofFloats(new float[1 << 20], 1 << 20)); // written first (same dtype, smaller name)
        t.put("b", new Entry(Dtype.F32, new long[] {1 << 20}, dead)); // throws when its bytes are copied
        assertThrows(IllegalStateException.class, () -> Safetensors.write(file, t, Map.of("epoch", "2")));

        assertArrayEquals(before, Files.readAllBytes(file));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void rejectsBadEntries() {
        var e = assertThrows(IllegalArgumentException.class, () -> Entry.ofFloats(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("needs 24 bytes, data has 20"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(dir.resolve("x"), Map.of("__metadata__", Entry.ofFloats(new float[1], 1)), null));
    }

    // ------------------------------------------------------------ helpers

    private void assertHeaderRejected(String json, int dataBytes, String fragment) throws IOException {
        Path file = headerFile(json, dataBytes);
        var e = assertThrows(FormatException.class, () -> Safetensors.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), () -> "message lacks '" + fragment + "': " + e.getMessage());
    }

    private Path headerFile(String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path file = Files.createTempFile(dir, "h", ".safetensors");
        Files.write(file, b.array());
        return file;
    }

    private static byte[] toBytes(int[] v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }
}

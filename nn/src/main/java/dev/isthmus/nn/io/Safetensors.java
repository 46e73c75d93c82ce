package dev.isthmus.nn.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors file format (https://huggingface.co/docs/safetensors), read and
 * written byte for byte as the reference Rust/Python library does:
 *
 * <pre>
 *   8 bytes   N, unsigned little-endian: the header length
 *   N bytes   UTF-8 JSON: {"__metadata__": {str: str}, "name": {"dtype": "F32",
 *             "shape": [..], "data_offsets": [begin, end]}, ...}, padded with
 *             spaces so that 8 + N is a multiple of 8
 *   rest      the tensors' raw little-endian bytes, contiguous, offsets relative
 *             to the first byte after the header
 * </pre>
 *
 * <p>Order, as in huggingface/safetensors {@code safetensors/src/tensor.rs}
 * ({@code prepare}): tensors sorted by dtype, largest alignment first in the
 * reference's {@code Dtype} enum order (I64, F32, I32, U8), then by name
 * (byte order); the header lists {@code __metadata__} first, then the tensors in
 * that same (offset) order; compact JSON without spaces. The reference keeps
 * metadata in a hash map (no defined order); here metadata keys are sorted so
 * that output is deterministic, which matches it whenever there is one key.
 * Null or empty metadata writes no {@code __metadata__} key, as Python's
 * {@code save_file(tensors)} does.
 *
 * <p>Writes are atomic: a temporary file in the same folder, fsync, then an
 * atomic rename over the target; a failure midway leaves the old file intact.
 *
 * <p>A read file is memory-mapped into an arena this object owns; the entries'
 * segments are views of that mapping and die with {@link #close()}.
 * Supported dtypes: F32, I32, U8, I64 (I64 for reading PyTorch's integer
 * tensors; it can also be written).
 */
public final class Safetensors implements AutoCloseable {

    /** Header lengths above this are rejected, as in the reference (100 MB). */
    static final long MAX_HEADER_SIZE = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    /** Element types; {@code rank} is the position in the reference's Dtype enum (its sort key). */
    public enum Dtype {
        U8(1, 1), I32(4, 9), F32(4, 11), I64(8, 13);

        private final int size;
        private final int rank;

        Dtype(int size, int rank) {
            this.size = size;
            this.rank = rank;
        }

        /** Bytes per element. */
        public int size() {
            return size;
        }

        static Dtype parse(String s) {
            for (Dtype d : values()) {
                if (d.name().equals(s)) return d;
            }
            return null;
        }
    }

    /**
     * One tensor: dtype, shape (row-major) and its raw little-endian bytes.
     * {@code data.byteSize()} must equal product(shape) * dtype size.
     */
    public record Entry(Dtype dtype, long[] shape, MemorySegment data) {

        public Entry {
            if (dtype == null) throw new IllegalArgumentException("Safetensors.Entry: dtype is null");
            if (shape == null) throw new IllegalArgumentException("Safetensors.Entry: shape is null");
            if (data == null) throw new IllegalArgumentException("Safetensors.Entry: data is null");
            shape = shape.clone();
            long expected = byteSize(dtype, shape);
            if (expected < 0) {
                throw new IllegalArgumentException("Safetensors.Entry: bad shape " + Arrays.toString(shape));
            }
            if (data.byteSize() != expected) {
                throw new IllegalArgumentException("Safetensors.Entry: " + dtype + " " + Arrays.toString(shape)
                        + " needs " + expected + " bytes, data has " + data.byteSize());
            }
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** Number of elements: the product of the shape (1 for a scalar). */
        public long elementCount() {
            return byteSize(dtype, shape) / dtype.size();
        }

        /** An F32 entry holding a little-endian copy of {@code values}. */
        public static Entry ofFloats(float[] values, long... shape) {
            MemorySegment seg = MemorySegment.ofArray(new byte[Math.multiplyExact(values.length, 4)]);
            MemorySegment.copy(values, 0, seg, LE_FLOAT, 0, values.length);
            return new Entry(Dtype.F32, shape, seg);
        }

        /** An I32 entry holding a little-endian copy of {@code values}. */
        public static Entry ofInts(int[] values, long... shape) {
            MemorySegment seg = MemorySegment.ofArray(new byte[Math.multiplyExact(values.length, 4)]);
            MemorySegment.copy(values, 0, seg, LE_INT, 0, values.length);
            return new Entry(Dtype.I32, shape, seg);
        }

        /** A U8 entry holding a copy of {@code values}. */
        public static Entry ofBytes(byte[] values, long... shape) {
            return new Entry(Dtype.U8, shape, MemorySegment.ofArray(values.clone()));
        }

        /** The values of an F32 entry. */
        public float[] toFloatArray() {
            require(Dtype.F32);
            float[] out = new float[Math.toIntExact(elementCount())];
            MemorySegment.copy(data, LE_FLOAT, 0, out, 0, out.length);
            return out;
        }

        /** The values of an I32 entry. */
        public int[] toIntArray() {
            require(Dtype.I32);
            int[] out = new int[Math.toIntExact(elementCount())];
            MemorySegment.copy(data, LE_INT, 0, out, 0, out.length);
            return out;
        }

        /** The values of an I64 entry. */
        public long[] toLongArray() {
            require(Dtype.I64);
            long[] out = new long[Math.toIntExact(elementCount())];
            MemorySegment.copy(data, LE_LONG, 0, out, 0, out.length);
            return out;
        }

        /** The bytes of a U8 entry. */
        public byte[] toByteArray() {
            require(Dtype.U8);
            return data.toArray(ValueLayout.JAVA_BYTE);
        }

        private void require(Dtype wanted) {
            if (dtype != wanted) {
                throw new IllegalStateException("Safetensors.Entry: is " + dtype + ", not " + wanted);
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && e.dtype == dtype && Arrays.equals(e.shape, shape)
                    && e.data.byteSize() == data.byteSize() && data.mismatch(e.data) < 0;
        }

        @Override
        public int hashCode() {
            return dtype.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return "Entry[" + dtype + " " + Arrays.toString(shape) + ", " + data.byteSize() + " bytes]";
        }
    }

    /** What a model expects of one tensor, for {@link #mismatches(Map)}. */
    public record Spec(Dtype dtype, long[] shape) {
        public Spec {
            if (dtype == null || shape == null) throw new IllegalArgumentException("Safetensors.Spec: null dtype or shape");
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public static Spec f32(long... shape) {
            return new Spec(Dtype.F32, shape);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Spec s && s.dtype == dtype && Arrays.equals(s.shape, shape);
        }

        @Override
        public int hashCode() {
            return dtype.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return dtype + " " + Arrays.toString(shape);
        }
    }

    /** A file that breaks the format; the message names the file and, where one is at fault, the tensor. */
    public static final class FormatException extends IOException {
        private static final long serialVersionUID = 1L;

        FormatException(Path file, String what) {
            super(file + ": " + what);
        }
    }

    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena; // owns the mapping; shared so a loader thread may read what another opened
    private final Map<String, String> metadata;
    private final Map<String, Entry> entries; // in file (offset) order

    private Safetensors(Path file, Arena arena, Map<String, String> metadata, Map<String, Entry> entries) {
        this.file = file;
        this.arena = arena;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.entries = Collections.unmodifiableMap(entries);
    }

    public Path file() {
        return file;
    }

    /** The {@code __metadata__} map (empty if the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** All tensors, in file order; their segments are valid until {@link #close()}. */
    public Map<String, Entry> entries() {
        return entries;
    }

    /** One tensor by name; a missing name is an exception listing what the file holds. */
    public Entry get(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException(file + ": no tensor '" + name + "'; the file holds " + entries.keySet());
        }
        return e;
    }

    /** Unmaps the file; entries' segments become inaccessible. */
    @Override
    public void close() {
        arena.close();
    }

    // ---------------------------------------------------------------- check

    /**
     * Compares the file's tensors with what a model expects. Returns one line per
     * difference, sorted by name, e.g. "conv1.weight: shape [6, 1, 5, 5] in file,
     * model expects [6, 3, 5, 5]"; an empty list means everything matches.
     */
    public List<String> mismatches(Map<String, Spec> expected) {
        Map<String, Spec> actual = new LinkedHashMap<>();
        entries.forEach((name, e) -> actual.put(name, new Spec(e.dtype(), e.shape)));
        return mismatches(actual, expected);
    }

    /** Throws an {@link IllegalArgumentException} naming the file and every mismatch, if any. */
    public void requireMatches(Map<String, Spec> expected) {
        List<String> problems = mismatches(expected);
        if (!problems.isEmpty()) {
            // The first problem on the first line: the command line prints only that line without --verbose.
            String more = problems.size() == 1 ? "" : " (and " + (problems.size() - 1) + " more)";
            throw new IllegalArgumentException(file + " does not fit the model: " + problems.getFirst() + more
                    + (problems.size() == 1 ? "" : ":\n  " + String.join("\n  ", problems)));
        }
    }

    static List<String> mismatches(Map<String, Spec> inFile, Map<String, Spec> expected) {
        TreeMap<String, String> out = new TreeMap<>();
        for (Map.Entry<String, Spec> e : expected.entrySet()) {
            String name = e.getKey();
            Spec want = e.getValue();
            Spec got = inFile.get(name);
            if (got == null) {
                out.put(name, name + ": missing from file, model expects " + want);
                continue;
            }
            List<String> diffs = new ArrayList<>();
            if (got.dtype() != want.dtype()) {
                diffs.add("dtype " + got.dtype() + " in file, model expects " + want.dtype());
            }
            if (!Arrays.equals(got.shape, want.shape)) {
                diffs.add("shape " + Arrays.toString(got.shape) + " in file, model expects " + Arrays.toString(want.shape));
            }
            if (!diffs.isEmpty()) out.put(name, name + ": " + String.join("; ", diffs));
        }
        for (Map.Entry<String, Spec> e : inFile.entrySet()) {
            if (!expected.containsKey(e.getKey())) {
                out.put(e.getKey(), e.getKey() + ": unexpected, in file (" + e.getValue() + ") but not in the model");
            }
        }
        return List.copyOf(out.values());
    }

    // ---------------------------------------------------------------- write

    /**
     * Writes {@code tensors} and {@code metadata} (may be null) to {@code file}
     * atomically. The map's order does not matter: the file uses the reference's order.
     */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        List<Map.Entry<String, Entry>> ordered = order(tensors);
        byte[] header = header(ordered, metadata);

        Path absolute = file.toAbsolutePath();
        Path dir = absolute.getParent();
        Path tmp = TempFiles.createBeside(absolute);   // follows the umask, unlike createTempFile
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                MemorySegment staging = MemorySegment.ofBuffer(buf.duplicate().clear()); // the whole buffer
                buf.putLong(header.length);
                put(ch, buf, staging, MemorySegment.ofArray(header));
                for (Map.Entry<String, Entry> e : ordered) {
                    put(ch, buf, staging, e.getValue().data());
                }
                buf.flip();
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            move(tmp, absolute);
            moved = true;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
        fsyncDirectory(dir);
    }

    /** The header bytes (JSON plus space padding) the reference would write; package-private for tests. */
    static byte[] header(Map<String, Entry> tensors, Map<String, String> metadata) {
        return header(order(tensors), metadata);
    }

    private static List<Map.Entry<String, Entry>> order(Map<String, Entry> tensors) {
        if (tensors == null) throw new IllegalArgumentException("Safetensors.write: tensors is null");
        List<Map.Entry<String, Entry>> list = new ArrayList<>();
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException("Safetensors.write: null name or entry (" + e.getKey() + ")");
            }
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("Safetensors.write: '" + METADATA_KEY + "' is reserved, not a tensor name");
            }
            list.add(Map.entry(e.getKey(), e.getValue()));
        }
        // Reference: descending dtype (its enum order), then name (Rust String order = UTF-8 bytes).
        list.sort(Comparator.<Map.Entry<String, Entry>>comparingInt(e -> -e.getValue().dtype().rank)
                .thenComparing(Map.Entry::getKey, Safetensors::compareUtf8));
        return list;
    }

    private static byte[] header(List<Map.Entry<String, Entry>> ordered, Map<String, String> metadata) {
        Map<String, Object> json = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            List<String> keys = new ArrayList<>(metadata.keySet());
            for (String k : keys) {
                if (k == null || metadata.get(k) == null) {
                    throw new IllegalArgumentException("Safetensors.write: null metadata key or value (" + k + ")");
                }
            }
            keys.sort(Safetensors::compareUtf8);
            Map<String, Object> meta = new LinkedHashMap<>();
            for (String k : keys) meta.put(k, metadata.get(k));
            json.put(METADATA_KEY, meta);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : ordered) {
            Entry t = e.getValue();
            long end = offset + t.data().byteSize();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype().name());
            info.put("shape", t.shape);
            info.put("data_offsets", new long[] {offset, end});
            json.put(e.getKey(), info);
            offset = end;
        }
        byte[] text = Json.writeCompact(json).getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(text, padded);
        Arrays.fill(out, text.length, padded, (byte) ' ');
        return out;
    }

    private static int compareUtf8(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    /** Copies {@code src} through the staging buffer {@code buf}, flushing it to {@code ch} when full. */
    private static void put(FileChannel ch, ByteBuffer buf, MemorySegment staging, MemorySegment src) throws IOException {
        long done = 0;
        long size = src.byteSize();
        while (done < size) {
            if (!buf.hasRemaining()) {
                buf.flip();
                while (buf.hasRemaining()) ch.write(buf);
                buf.clear();
            }
            int n = (int) Math.min(buf.remaining(), size - done);
            MemorySegment.copy(src, done, staging, buf.position(), n);
            buf.position(buf.position() + n);
            done += n;
        }
    }

    private static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + target + " atomically on this file system", e);
        }
    }

    /** Makes the rename durable. Some platforms (Windows) cannot open a folder; the rename is still atomic there. */
    static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException notSupported) {
            // Durability of the rename is best effort where the OS refuses; atomicity does not depend on it.
        }
    }

    // ---------------------------------------------------------------- read

    /** Maps and validates {@code file}; any violation is a {@link FormatException} naming the file and tensor. */
    public static Safetensors read(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            return parse(file, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Safetensors parse(Path file, Arena arena) throws IOException {
        MemorySegment all;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new FormatException(file, "file is " + size + " bytes, too short for the 8-byte header length");
            }
            all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        }
        long size = all.byteSize();
        long n = all.get(LE_LONG, 0);
        if (n < 0 || n > MAX_HEADER_SIZE) {
            throw new FormatException(file, "header length " + Long.toUnsignedString(n) + " is not sane (limit "
                    + MAX_HEADER_SIZE + " bytes)");
        }
        if (8 + n > size) {
            throw new FormatException(file, "header length " + n + " runs past the end of the " + size
                    + "-byte file (truncated?)");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(all.asSlice(8, n).asByteBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw new FormatException(file, "header is not valid UTF-8");
        }
        Object root;
        try {
            root = Json.read(text);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, "header is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> header)) {
            throw new FormatException(file, "header must be a JSON object, got " + Json.typeName(root));
        }

        Map<String, String> metadata = new LinkedHashMap<>();
        record Info(String name, Dtype dtype, long[] shape, long begin, long end) {}
        List<Info> infos = new ArrayList<>();
        for (Map.Entry<?, ?> e : header.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                if (!(e.getValue() instanceof Map<?, ?> meta)) {
                    throw new FormatException(file, METADATA_KEY + " must be an object of strings, got "
                            + Json.typeName(e.getValue()));
                }
                for (Map.Entry<?, ?> m : meta.entrySet()) {
                    if (!(m.getValue() instanceof String v)) {
                        throw new FormatException(file, METADATA_KEY + "." + m.getKey() + " must be a string, got "
                                + Json.typeName(m.getValue()));
                    }
                    metadata.put((String) m.getKey(), v);
                }
                continue;
            }
            String where = "tensor '" + name + "': ";
            if (!(e.getValue() instanceof Map<?, ?> t)) {
                throw new FormatException(file, where + "expected an object, got " + Json.typeName(e.getValue()));
            }
            if (!(t.get("dtype") instanceof String dtypeName)) {
                throw new FormatException(file, where + "missing or non-string \"dtype\"");
            }
            Dtype dtype = Dtype.parse(dtypeName);
            if (dtype == null) {
                throw new FormatException(file, where + "unsupported dtype \"" + dtypeName + "\" (supported: "
                        + Arrays.toString(Dtype.values()) + ")");
            }
            long[] shape = longs(file, where, "shape", t.get("shape"), -1);
            long[] offsets = longs(file, where, "data_offsets", t.get("data_offsets"), 2);
            if (offsets[1] < offsets[0]) {
                throw new FormatException(file, where + "data_offsets " + Arrays.toString(offsets) + " end before they begin");
            }
            infos.add(new Info(name, dtype, shape, offsets[0], offsets[1]));
        }

        long dataStart = 8 + n;
        long dataSize = size - dataStart;
        infos.sort(Comparator.comparingLong(Info::begin).thenComparingLong(Info::end));
        long expectedBegin = 0;
        String previous = null;
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Info info : infos) {
            String where = "tensor '" + info.name() + "': ";
            String offs = "data_offsets [" + info.begin() + ", " + info.end() + "]";
            if (info.begin() < expectedBegin) {
                throw new FormatException(file, where + offs + " overlap tensor '" + previous + "' ending at " + expectedBegin);
            }
            if (info.begin() > expectedBegin) {
                throw new FormatException(file, where + offs + " leave a gap: expected to begin at " + expectedBegin
                        + (previous == null ? " (the first tensor)" : " where '" + previous + "' ends"));
            }
            if (info.end() > dataSize) {
                throw new FormatException(file, where + offs + " run past the data section of " + dataSize
                        + " bytes (truncated file?)");
            }
            long bytes = byteSize(info.dtype(), info.shape());
            if (bytes < 0) {
                throw new FormatException(file, where + "shape " + Arrays.toString(info.shape()) + " overflows");
            }
            if (bytes != info.end() - info.begin()) {
                throw new FormatException(file, where + info.dtype() + " " + Arrays.toString(info.shape()) + " needs "
                        + bytes + " bytes but " + offs + " hold " + (info.end() - info.begin()));
            }
            entries.put(info.name(), new Entry(info.dtype(), info.shape(), all.asSlice(dataStart + info.begin(), bytes)));
            expectedBegin = info.end();
            previous = info.name();
        }
        if (expectedBegin != dataSize) {
            throw new FormatException(file, "data section has " + dataSize + " bytes but the tensors cover "
                    + expectedBegin + " (trailing bytes)");
        }
        return new Safetensors(file, arena, metadata, entries);
    }

    private static long[] longs(Path file, String where, String key, Object value, int length) throws FormatException {
        if (!(value instanceof List<?> list)) {
            throw new FormatException(file, where + "\"" + key + "\" must be an array of integers, got " + Json.typeName(value));
        }
        if (length >= 0 && list.size() != length) {
            throw new FormatException(file, where + "\"" + key + "\" must have " + length + " elements, has " + list.size());
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long l) || l < 0) {
                throw new FormatException(file, where + "\"" + key + "\" must hold non-negative integers, got " + list);
            }
            out[i] = l;
        }
        return out;
    }

    /** product(shape) * dtype size, or -1 on a negative dimension or overflow. */
    static long byteSize(Dtype dtype, long[] shape) {
        try {
            long n = dtype.size();
            for (long d : shape) {
                if (d < 0) return -1;
                n = Math.multiplyExact(n, d);
            }
            return n;
        } catch (ArithmeticException overflow) {
            return -1;
        }
    }
}

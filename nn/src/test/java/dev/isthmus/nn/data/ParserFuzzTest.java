package dev.isthmus.nn.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.isthmus.nn.io.Json;
import dev.isthmus.nn.io.Safetensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz targets for every parser of outside files: IDX (raw and gzipped), safetensors (header,
 * metadata and tensor table), the JSON of model-file metadata, and the image decoder's wrapper.
 * The contract: a malformed input is answered by the parser's own exception naming the file
 * ({@link DataFileException}, {@link Safetensors.FormatException}, {@link IllegalArgumentException}
 * for JSON); any other exception or error, or a hang, is a finding.
 *
 * <p>In a normal build each target runs once per input of its seed corpus, checked in under
 * {@code src/test/resources/dev/isthmus/nn/data/ParserFuzzTestInputs/<method>/}. With
 * {@code JAZZER_FUZZ=1}, one target at a time ({@code -Dtest=ParserFuzzTest#idxImages}) is fuzzed
 * for at most its {@code maxDuration}; {@code bench/fuzz.sh} runs each.
 */
class ParserFuzzTest {
    /** Inputs go through a real file, as in use; one per JVM, overwritten per input. */
    private static final Path FILE = scratch();

    private static Path scratch() {
        try {
            Path shm = Path.of("/dev/shm");
            Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
            Path f = Files.createTempFile(dir, "isthmus-fuzz-", ".bin");
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path write(byte[] data) {
        try {
            return Files.write(FILE, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void idxImages(byte[] data) {
        Path f = write(data);
        try {
            Idx.Images images = Idx.readImages(f);
            if ((long) images.count() * images.rows() * images.cols() != images.pixels().length) {
                throw new AssertionError("Idx.readImages: " + images.count() + " x " + images.rows() + " x " + images.cols()
                        + " images but " + images.pixels().length + " bytes");
            }
        } catch (DataFileException expected) {
            requireNamed(expected, f);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void idxLabels(byte[] data) {
        Path f = write(data);
        try {
            Idx.Labels labels = Idx.readLabels(f);
            if (labels.count() != labels.labels().length) throw new AssertionError("Idx.readLabels: count " + labels.count());
        } catch (DataFileException expected) {
            requireNamed(expected, f);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void safetensors(byte[] data) throws IOException {
        Path f = write(data);
        try (Safetensors st = Safetensors.read(f)) {
            for (String name : st.entries().keySet()) {
                long bytes = st.get(name).data().byteSize();   // every tensor's bytes lie inside the file
                if (bytes < 0 || bytes > data.length) throw new AssertionError(name + ": " + bytes + " bytes in a " + data.length + "-byte file");
            }
            st.metadata().forEach((k, v) -> { if (k == null || v == null) throw new AssertionError("null metadata " + k); });
        } catch (Safetensors.FormatException expected) {
            requireNamed(expected, f);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void metadataJson(byte[] data) {
        String text = new String(data, java.nio.charset.StandardCharsets.UTF_8);
        try {
            Object value = Json.read(text);
            Object again = Json.read(Json.write(value));   // what was read writes back and reads the same
            if (!java.util.Objects.equals(String.valueOf(value), String.valueOf(again))) {
                throw new AssertionError("JSON round trip changed " + value + " into " + again);
            }
        } catch (IllegalArgumentException expected) {
            // malformed JSON: the reader says where
        }
    }

    @FuzzTest(maxDuration = "30s")
    void imageDecode(byte[] data) {
        Path f = write(data);
        try (Arena arena = Arena.ofConfined()) {
            ImageFolder.Decoded d = ImageFolder.decode(f, 8, arena);
            if (d.problem() == null && (d.height() < 8 || d.width() < 8)) {
                throw new AssertionError("decoded to " + d.height() + "x" + d.width() + ", below the shorter side 8");
            }
        }
    }

    private static void requireNamed(Exception e, Path file) {
        if (e.getMessage() == null || !e.getMessage().contains(file.toString())) {
            throw new AssertionError("the message does not name the file: " + e.getMessage(), e);
        }
    }
}

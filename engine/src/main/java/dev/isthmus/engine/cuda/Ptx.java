package dev.isthmus.engine.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cuda backend's kernels as PTX resources: one {@code <family>.ptx} per {@code .cu} file of
 * {@code engine/src/main/cuda}, compiled ahead of time by {@code build-ptx.sh} (nvcc, for
 * {@code compute_75}) when the engine was built, plus {@code kernels.properties} saying by what.
 * The driver JIT-compiles the PTX for the GPU it finds.
 *
 * <p>There is no run-time compilation: NVRTC would be the way, but the bindings do not load
 * libnvrtc, so an engine built without nvcc has no CUDA kernels, and the backend says so.
 */
final class Ptx {
    /** Where build-ptx.sh's output lies on the class path. */
    static final String RESOURCES = "/dev/isthmus/engine/cuda/";
    static final String MANIFEST = "kernels.properties";

    /** Every family the backend's plans use; each must be packaged. */
    static final List<String> FAMILIES = List.of("conv", "dropout", "eltwise", "linear", "lrn", "optimizer", "pool", "softmax", "vector");

    private final String root;
    private final Properties manifest;

    private Ptx(String root, Properties manifest) {
        this.root = root;
        this.manifest = manifest;
    }

    /** The packaged PTX. */
    static Ptx packaged() { return load(RESOURCES); }

    /** Why {@link #packaged()} fails (its message), or empty when the PTX is all there. */
    static Optional<String> problem() {
        try {
            packaged();
            return Optional.empty();
        } catch (IllegalStateException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * The PTX under the class-path folder {@code root}, checked for every family.
     *
     * @throws IllegalStateException saying that no PTX was built, or which file is missing
     */
    static Ptx load(String root) {
        Properties manifest = new Properties();
        try (InputStream in = Ptx.class.getResourceAsStream(root + MANIFEST)) {
            if (in == null) {
                throw new IllegalStateException("no PTX was built (nvcc absent at build time) and NVRTC is not available"
                        + " (the bindings do not load libnvrtc), so the cuda backend has no kernels: " + root + MANIFEST
                        + " is not on the class path. Rebuild the engine where the CUDA toolkit's nvcc is installed"
                        + " (engine/src/main/cuda/build-ptx.sh writes the PTX; the engine's build runs it when nvcc is found)");
            }
            manifest.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + root + MANIFEST, e);
        }
        List<String> missing = new ArrayList<>();
        for (String family : FAMILIES) if (Ptx.class.getResource(root + family + ".ptx") == null) missing.add(family + ".ptx");
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the cuda backend's PTX is incomplete: " + missing + " missing from " + root
                    + " though " + MANIFEST + " is there (" + manifest + "); rebuild the engine with nvcc");
        }
        return new Ptx(root, manifest);
    }

    /** The PTX text of one family, NUL-free, as cuModuleLoadData wants it (the caller adds the NUL). */
    String source(String family) {
        String file = root + family + ".ptx";
        try (InputStream in = Ptx.class.getResourceAsStream(file)) {
            if (in == null) throw new IllegalStateException("PTX " + file + " is missing from the class path");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("reading PTX " + file, e);
        }
    }

    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)");
    private static final Pattern PARAM =
            Pattern.compile("\\.param\\s+(?:\\.align\\s+\\d+\\s+)?\\.[a-z]+(\\d+)\\s+\\w+(?:\\[(\\d+)\\])?");

    /**
     * The byte size of every parameter of every entry point in a PTX text, in order, as its
     * {@code .entry} declarations say ({@code .param .u64 p} is 8, {@code .param .align 4 .b8 p[64]}
     * is a 64-byte struct): what each launch's arguments must match.
     */
    static Map<String, int[]> signatures(String ptx) {
        Map<String, int[]> all = new LinkedHashMap<>();
        Matcher entry = ENTRY.matcher(ptx);
        while (entry.find()) {
            List<Integer> sizes = new ArrayList<>();
            Matcher param = PARAM.matcher(entry.group(2));
            while (param.find()) {
                int bytes = Integer.parseInt(param.group(1)) / 8;
                sizes.add(param.group(2) == null ? bytes : bytes * Integer.parseInt(param.group(2)));
            }
            all.put(entry.group(1), sizes.stream().mapToInt(Integer::intValue).toArray());
        }
        return all;
    }

    /** The PTX ISA version its {@code .version} line names, e.g. "7.0". */
    String isa() { return manifest.getProperty("isa", "?"); }

    /** One line for describe(): what built the PTX and for which architecture. */
    String describe() {
        return "PTX for " + manifest.getProperty("arch", "?") + " (ISA " + isa() + ", nvcc " + manifest.getProperty("nvcc", "?")
                + ") JIT-compiled by the driver";
    }
}

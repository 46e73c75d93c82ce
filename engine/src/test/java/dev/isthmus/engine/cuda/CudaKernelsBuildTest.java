package dev.isthmus.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cuda backend's kernels without a GPU: build-ptx.sh compiles every .cu file with nvcc to PTX
 * for compute_75 (once, into a temporary folder), ptxas assembles each for sm_75 as the driver's
 * JIT would, and each PTX has exactly the entry points the plans look up. When nvcc is here, the
 * build must also have packaged the PTX on the class path (what goes into the engine jar).
 * Skipped, saying why, without nvcc or without the sources (a test jar run elsewhere).
 */
class CudaKernelsBuildTest {
    /** The entry points each family's plans launch (CudaBackend.kernel calls), by family. */
    static final Map<String, List<String>> ENTRIES = new LinkedHashMap<>();

    static {
        ENTRIES.put("conv", List.of("conv_forward", "conv_backward_data", "conv_backward_weights", "bias_backward"));
        ENTRIES.put("dropout", List.of("dropout_forward", "dropout_backward"));
        ENTRIES.put("eltwise", List.of("eltwise_forward", "eltwise_backward"));
        ENTRIES.put("linear", List.of("linear_forward", "linear_backward_data", "linear_backward_weights", "bias_backward"));
        ENTRIES.put("lrn", List.of("lrn_forward", "lrn_backward"));
        ENTRIES.put("optimizer", List.of("sgd_step", "rmsprop_step", "adam_step"));
        ENTRIES.put("pool", List.of("pool_max_forward", "pool_avg_forward", "pool_max_backward", "pool_avg_backward"));
        ENTRIES.put("softmax", List.of("softmax_rows", "softmax_loss", "softmax_backward"));
        ENTRIES.put("vector", List.of("axpy"));
    }

    private static final Path SOURCES = Path.of("src", "main", "cuda").toAbsolutePath();   // Surefire runs in the module's folder
    private static final Pattern ENTRY = Pattern.compile("^\\.visible \\.entry (\\w+)\\(", Pattern.MULTILINE);

    @TempDir static Path work;
    private static Path bin;
    private static Path built;

    /** Runs build-ptx.sh once for every test here. */
    @BeforeAll static void build() throws Exception {
        bin = CudaTesting.nvccBin().orElse(null);
        Assumptions.assumeTrue(bin != null, "nvcc not found on the PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin: install the CUDA toolkit");
        Assumptions.assumeTrue(Files.isRegularFile(SOURCES.resolve("build-ptx.sh")),
                () -> "no kernel sources at " + SOURCES.toAbsolutePath() + " (run from the engine module's folder)");
        built = work.resolve("ptx");
        String log = run(work, Map.of("NVCC", bin.resolve("nvcc").toString()), "bash", SOURCES.resolve("build-ptx.sh").toString(), built.toString());
        assertTrue(log.contains(ENTRIES.size() + " of " + ENTRIES.size() + " kernel files compiled"), log);
    }

    static List<String> families() { return List.copyOf(ENTRIES.keySet()); }

    @Test void everyFamilyTheBackendUsesHasASourceAndViceVersa() throws IOException {
        TreeSet<String> sources = new TreeSet<>();
        try (var files = Files.list(SOURCES)) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu")).forEach(n -> sources.add(n.substring(0, n.length() - 3)));
        }
        assertEquals(new TreeSet<>(Ptx.FAMILIES), sources, "Ptx.FAMILIES against the .cu files");
        assertEquals(new TreeSet<>(ENTRIES.keySet()), sources, "this test's entries against the .cu files");
    }

    @ParameterizedTest(name = "{0}.cu")
    @MethodSource("families")
    void compilesToPtxForSm75WithItsEntriesAndPassesPtxas(String family) throws Exception {
        Path ptx = built.resolve(family + ".ptx");
        String text = Files.readString(ptx);
        assertTrue(text.contains("\n.target sm_75\n"), family + ": PTX for sm_75");
        assertTrue(text.contains("\n.version 7.0\n"), family + ": PTX ISA lowered to 7.0 (drivers of CUDA 11.0 on load it)");
        assertEquals(new TreeSet<>(ENTRIES.get(family)), entries(text), family + ": the unmangled (extern \"C\") entry points");
        Path ptxas = Files.isExecutable(bin.resolve("ptxas")) ? bin.resolve("ptxas") : Path.of("ptxas");
        String log = run(work, Map.of(), ptxas.toString(), "-arch=sm_75", "-v", ptx.toString(), "-o", work.resolve(family + ".cubin").toString());
        for (String entry : ENTRIES.get(family)) assertTrue(log.contains("'" + entry + "'"), "ptxas -v reports " + entry + ":\n" + log);
    }

    /**
     * Every entry's parameters as Ptx.signatures reads them from the PTX: the ABI the plans' argument
     * setters are checked against at launch (8: a pointer or a 64-bit integer, 4: an int or a float,
     * 64 and 48: the convolution and pooling geometry structs).
     */
    @Test void theSignaturesReadFromThePtxAreTheKernelsParameters() throws IOException {
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("conv_forward", new int[] {8, 8, 8, 8, 64});
        expected.put("conv_backward_data", new int[] {8, 8, 8, 64});
        expected.put("conv_backward_weights", new int[] {8, 8, 8, 64});
        expected.put("bias_backward", new int[] {8, 8, 4, 4, 4});
        expected.put("dropout_forward", new int[] {8, 8, 8, 8, 8, 8, 4});
        expected.put("dropout_backward", new int[] {8, 8, 8, 8, 4});
        expected.put("eltwise_forward", new int[] {8, 8, 8, 4});
        expected.put("eltwise_backward", new int[] {8, 8, 8, 8, 4});
        expected.put("linear_forward", new int[] {8, 8, 8, 8, 4, 4, 4});
        expected.put("linear_backward_data", new int[] {8, 8, 8, 4, 4, 4});
        expected.put("linear_backward_weights", new int[] {8, 8, 8, 4, 4, 4});
        expected.put("lrn_forward", new int[] {8, 8, 4, 4, 8, 4, 4, 4, 4});
        expected.put("lrn_backward", new int[] {8, 8, 8, 4, 4, 8, 4, 4, 4, 4});
        expected.put("sgd_step", new int[] {8, 8, 8, 8, 4, 4, 4, 4, 4, 4});
        expected.put("rmsprop_step", new int[] {8, 8, 8, 8, 4, 4, 4, 4, 4});
        expected.put("adam_step", new int[] {8, 8, 8, 8, 4, 4, 4, 4, 4, 4, 4, 4});
        expected.put("pool_max_forward", new int[] {8, 8, 8, 48});
        expected.put("pool_avg_forward", new int[] {8, 8, 48});
        expected.put("pool_max_backward", new int[] {8, 8, 8, 48});
        expected.put("pool_avg_backward", new int[] {8, 8, 48});
        expected.put("softmax_rows", new int[] {8, 8, 8, 8, 4});
        expected.put("softmax_loss", new int[] {8, 8, 8, 4, 4});
        expected.put("softmax_backward", new int[] {8, 8, 8, 4, 4});
        expected.put("axpy", new int[] {8, 8, 8, 4});
        for (var family : ENTRIES.entrySet()) {
            Map<String, int[]> signatures = Ptx.signatures(Files.readString(built.resolve(family.getKey() + ".ptx")));
            assertEquals(new TreeSet<>(family.getValue()), new TreeSet<>(signatures.keySet()), family.getKey());
            for (String entry : family.getValue()) {
                assertEquals(java.util.Arrays.toString(expected.get(entry)), java.util.Arrays.toString(signatures.get(entry)),
                        family.getKey() + "." + entry + " parameter sizes");
            }
        }
    }

    @Test void theManifestSaysWhatBuiltThePtx() throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(built.resolve(Ptx.MANIFEST))) {
            p.load(in);
        }
        assertEquals("compute_75", p.getProperty("arch"));
        assertEquals("7.0", p.getProperty("isa"));
        assertEquals(String.join(" ", ENTRIES.keySet()), p.getProperty("families"));
        assertTrue(p.getProperty("nvcc", "").matches("\\d+\\.\\d+\\.\\d+"), p.toString());
    }

    @Test void aSecondRunRebuildsNothing() throws Exception {
        String log = run(work, Map.of("NVCC", bin.resolve("nvcc").toString()), "bash", SOURCES.resolve("build-ptx.sh").toString(), built.toString());
        assertTrue(log.contains("0 of " + ENTRIES.size() + " kernel files compiled"), log);
    }

    /** nvcc is here, so the engine's build must have put the PTX on the class path (and so in the jar). */
    @ParameterizedTest(name = "{0}.ptx")
    @MethodSource("families")
    void thePtxIsPackagedWhenNvccIsPresent(String family) throws IOException {
        assertNotNull(Ptx.class.getResource(Ptx.RESOURCES + Ptx.MANIFEST),
                "nvcc is installed but " + Ptx.RESOURCES + Ptx.MANIFEST + " is not on the class path: the engine's build did not run"
                        + " src/main/cuda/build-ptx.sh (the cuda-ptx profile of engine/pom.xml)");
        try (InputStream in = Ptx.class.getResourceAsStream(Ptx.RESOURCES + family + ".ptx")) {
            assertNotNull(in, family + ".ptx is not packaged");
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            assertEquals(new TreeSet<>(ENTRIES.get(family)), entries(text), family + ": packaged entry points");
            assertTrue(text.contains("\n.target sm_75\n"), family);
        }
        assertTrue(Ptx.problem().isEmpty(), () -> Ptx.problem().orElseThrow());
    }

    private static TreeSet<String> entries(String ptx) {
        TreeSet<String> names = new TreeSet<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) names.add(m.group(1));
        return names;
    }

    /** Runs a command in {@code dir}; returns its output (stdout and stderr), failing with it on a non-zero exit. */
    static String run(Path dir, Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), String.join(" ", command) + " timed out");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed:\n" + text);
        return text;
    }
}

